// The report's stylesheet (inlined into the page): screen layout in a centred column with
// figures two per row, print layout one per row with no page break inside a figure.
#pragma once

namespace cxr::report {

extern const char* const kPageStyle;

}  // namespace cxr::report
