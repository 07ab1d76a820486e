// Listing the images of a folder by content, for datasets (class folders) and for predict's inputs.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cxr {

// What a folder scan passed over, by kind ("DICOMDIR", "not an image", "hidden file", ...).
using LeftOut = std::map<std::string, int64_t>;

// The image files under `dir` (recursively), sorted, told by content (image_sniff.h) whatever
// their names: PACS exports name DICOM files by UID with no extension. Hidden files and folders
// are passed over unread. Directory symlinks are followed (data sets are often assembled from
// links), so a link that leads back into a folder already read, a loop, would recurse until the
// OS gives up with ELOOP: it is refused by name instead. Any error while listing is a UsageError
// that starts with `context` ("data", "predict") and names the folder, never a raw
// filesystem_error. What is passed over is counted into `left_out`.
std::vector<std::string> scan_image_files(const std::filesystem::path& dir, LeftOut& left_out,
                                          const std::string& context);

// "left out 3 files under ROOT: 1 DICOMDIR, 2 hidden file" on stderr, prefixed by `context`;
// nothing when `left_out` is empty.
void print_left_out(const LeftOut& left_out, const std::string& root, const std::string& context);

}  // namespace cxr
