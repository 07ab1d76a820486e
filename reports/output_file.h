// Writing the report: a temporary file beside the target, renamed over it, so a reader never sees
// half a page and a failed write leaves the old page in place. RuntimeFailure naming the path.
#pragma once
#include <string>
#include <string_view>

namespace cxr::report {

void write_text_atomic(const std::string& path, std::string_view text);

}  // namespace cxr::report
