// The quick pass `train` makes over every listed image before the run directory is created when
// data.on_bad_file is fail: each file's first bytes (at most io/image_sniff.h's kSniffBytes; no
// pixel data is decoded) must be a DICOM, PNG or JPEG image, so a missing, empty, truncated-to-
// nothing or mislabelled file stops the run with its name (UsageError, exit 2) before any work,
// not mid-epoch. A file whose header is sound but whose pixel data is damaged is still found by
// the loader when it is read. When the pass takes longer than a second, a progress line goes to
// the observer once a second.
#pragma once
#include <vector>

#include "io/dataset.h"
#include "job/job_observer.h"

namespace cxr {

// `sets`: the splits to check, with their names for the message ("train", "val").
void check_image_headers(const std::vector<std::pair<std::string, const Dataset*>>& sets, JobObserver& observer);

}  // namespace cxr
