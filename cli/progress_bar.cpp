#include "cli/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace cxr::cli {

ProgressBar::ProgressBar(std::string label, int total, double items_per_step, int plain_every)
    : label_(std::move(label)),
      total_(total),
      items_per_step_(items_per_step),
      plain_every_(plain_every > 0 ? plain_every : 1),
      tty_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()) {}

std::string format_duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

void ProgressBar::update(int done, const std::string& extra) {
  if (!tty_ && done % plain_every_ != 0 && done != total_) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? done * items_per_step_ / elapsed : 0.0;
  const double eta = done > 0 ? elapsed / done * (total_ - done) : 0.0;
  constexpr int kWidth = 24;
  const int filled = total_ > 0 ? done * kWidth / total_ : 0;
  std::string bar(static_cast<size_t>(kWidth), ' ');
  for (int i = 0; i < filled; ++i) bar[static_cast<size_t>(i)] = '=';
  if (filled < kWidth) bar[static_cast<size_t>(filled)] = '>';
  std::fprintf(stderr, "%s%-6s %d/%d [%s] %.1f img/s  ETA %s%s%s%s", tty_ ? "\r" : "",
               label_.c_str(), done, total_, bar.c_str(), rate, format_duration(eta).c_str(),
               extra.empty() ? "" : "  ", extra.c_str(), tty_ ? "\033[K" : "\n");
  std::fflush(stderr);
  open_ = tty_;
}

void ProgressBar::finish() {
  if (open_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace cxr::cli
