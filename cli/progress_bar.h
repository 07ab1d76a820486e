// A progress line on stderr: "train  12/40 [=====>    ] 3.1 img/s  ETA 0:42". Redrawn in place on
// a terminal; when stderr is not a terminal (CI logs) one plain line every `plain_every` updates.
#pragma once
#include <chrono>
#include <string>

namespace cxr::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, int total, double items_per_step, int plain_every = 10);
  // `extra` is appended (e.g. "loss 0.693").
  void update(int done, const std::string& extra = "");
  void finish();

 private:
  std::string label_;
  int total_;
  double items_per_step_;
  int plain_every_;
  bool tty_;
  int first_done_ = -1;  // rate and ETA are measured from the first update (see progress_line)
  std::chrono::steady_clock::time_point first_time_;
  bool open_ = false;
};

// The line for `done` of `total` steps, `seconds` after the update that reported `first_done`.
// Rate and ETA come from the steps since that first update only: bars are made when the first step
// has already ended, and its own duration is unknown to them (a rate over the microseconds since
// would read millions of img/s). Until a step has passed, both show "--".
std::string progress_line(const std::string& label, int done, int total, int first_done, double seconds,
                          double items_per_step, const std::string& extra);

std::string format_duration(double seconds);  // "1:02:03" or "2:03"

}  // namespace cxr::cli
