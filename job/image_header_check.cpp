#include "job/image_header_check.h"

#include <chrono>

#include "core/errors.h"
#include "io/image_sniff.h"

namespace cxr {

void check_image_headers(const std::vector<std::pair<std::string, const Dataset*>>& sets, JobObserver& observer) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto next_note = t0 + std::chrono::seconds(1);
  size_t total = 0, done = 0;
  for (const auto& [name, set] : sets) total += set->samples.size();
  for (const auto& [name, set] : sets)
    for (const Sample& s : set->samples) {
      const ImageKind kind = sniff_image_file(s.path);
      if (!is_image(kind))
        throw UsageError(s.path + " (" + name + " set): " + image_kind_name(kind) +
                         ", not a DICOM, PNG or JPEG image; with data.on_bad_file: fail the run stops before it "
                         "starts (data.on_bad_file: skip leaves such files out)");
      ++done;
      if (Clock::now() >= next_note) {
        observer.note("data: checked the headers of " + std::to_string(done) + " of " + std::to_string(total) + " images");
        next_note += std::chrono::seconds(1);
      }
    }
  if (Clock::now() - t0 >= std::chrono::seconds(1))
    observer.note("data: checked the headers of all " + std::to_string(total) + " images");
}

}  // namespace cxr
