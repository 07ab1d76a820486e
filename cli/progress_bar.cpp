#include "cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace cxr::cli {

ProgressBar::ProgressBar(std::string label, int total, double items_per_step, int plain_every)
    : label_(std::move(label)),
      total_(total),
      items_per_step_(items_per_step),
      plain_every_(plain_every > 0 ? plain_every : 1),
      tty_(isatty(fileno(stderr)) != 0) {}

std::string format_duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

std::string progress_line(const std::string& label, int done, int total, int first_done, double seconds,
                          double items_per_step, const std::string& extra) {
  constexpr int kWidth = 24;
  const int filled = total > 0 ? std::min(done, total) * kWidth / total : 0;
  std::string bar(static_cast<size_t>(kWidth), ' ');
  for (int i = 0; i < filled; ++i) bar[static_cast<size_t>(i)] = '=';
  if (filled < kWidth) bar[static_cast<size_t>(filled)] = '>';
  const int steps = done - first_done;
  std::string rate = "--", eta = "--";
  if (steps > 0 && seconds > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", steps * items_per_step / seconds);
    rate = buf;
    eta = format_duration(seconds / steps * std::max(0, total - done));
  }
  char head[160];
  std::snprintf(head, sizeof head, "%-6s %d/%d [%s] %s img/s  ETA %s", label.c_str(), done, total, bar.c_str(),
                rate.c_str(), eta.c_str());
  return extra.empty() ? head : std::string(head) + "  " + extra;
}

void ProgressBar::update(int done, const std::string& extra) {
  const auto now = std::chrono::steady_clock::now();
  if (first_done_ < 0) {
    first_done_ = done;
    first_time_ = now;
  }
  if (!tty_ && done % plain_every_ != 0 && done != total_) return;
  const double seconds = std::chrono::duration<double>(now - first_time_).count();
  const std::string line = progress_line(label_, done, total_, first_done_, seconds, items_per_step_, extra);
  std::fprintf(stderr, "%s%s%s", tty_ ? "\r" : "", line.c_str(), tty_ ? "\033[K" : "\n");
  std::fflush(stderr);
  open_ = tty_;
}

void ProgressBar::finish() {
  if (open_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace cxr::cli
