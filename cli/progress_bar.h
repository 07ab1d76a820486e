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
  std::chrono::steady_clock::time_point start_;
  bool open_ = false;
};

std::string format_duration(double seconds);  // "1:02:03" or "2:03"

}  // namespace cxr::cli
