// What `cxrtune predict INPUT...` scores, in order. Each INPUT is
//   - a folder: every file under it whose content is a DICOM, PNG or JPEG image, whatever its
//     name (io/image_sniff.h, as folder data sets are scanned), hidden files and folders passed
//     over unread, directory links followed (a loop refused by name), sorted by path; `relative`
//     is the path below the folder. What was passed over is said in one line on stderr.
//   - a CSV manifest (a file ending in .csv): its `path` column (RFC 4180, a header row, a
//     UTF-8 byte-order mark skipped; other columns ignored, so a training manifest works),
//     in row order; `relative` is the column as written (relative to the manifest's folder).
//   - any other file: itself, whatever it holds (the reader names it if it is no image);
//     `relative` is the path as given, without a leading "/" or "./".
// `relative` is what predictions.csv's `path` holds and what the Grad-CAM files are named after,
// so two 1.dcm in different folders keep different names. Two inputs with the same `relative`
// (the same file given twice, or folders with the same layout) are refused: their outputs would
// overwrite each other. A relative path that climbs out of its root ("..") is refused for the
// same reason. Failure modes: UsageError naming the INPUT (missing, unreadable, an empty folder,
// a manifest without a path column).
#pragma once
#include <string>
#include <vector>

namespace cxr {

struct PredictInput {
  std::string path;      // to open
  std::string relative;  // to report and to name outputs by
};

std::vector<PredictInput> list_inputs(const std::vector<std::string>& inputs);

}  // namespace cxr
