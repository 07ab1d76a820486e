// A cheap pass over a DICOM file's element stream before any DICOM library parses it. DCMTK and
// GDCM read sequences recursively: a few hundred kilobytes of sequences nested inside each other
// overflow the stack (SIGSEGV), and neither library bounds the depth. This pass follows the
// stream without recursion — file meta group, then implicit or explicit VR, little or big
// endian, deflated or not; defined and undefined lengths; items, item and sequence delimiters;
// undefined-length UN (implicit VR inside); encapsulated pixel data — and counts how deeply
// sequences nest. Values are skipped, not read.
//
// Failure modes: UsageError naming the file when sequences nest deeper than `max_depth`. A file
// the pass cannot follow to its end (truncated, garbage) is left to DCMTK to refuse; the pass
// never refuses a file for that, and it counts every structure DCMTK or GDCM could nest on.
#pragma once
#include <string>

namespace cxr {

// Deeper than any real object (structured reports nest about a dozen levels) and shallow
// enough for either library's recursion on a worker thread's stack.
constexpr int kMaxSequenceDepth = 64;

void check_sequence_nesting(const std::string& path, int max_depth = kMaxSequenceDepth);

}  // namespace cxr
