#include "cli/train_printer.h"

#include <cstdio>

namespace cxr::cli {

void TrainPrinter::on_train_start(int64_t batch_size, int64_t log_every) {
  batch_size_ = batch_size;
  log_every_ = static_cast<int>(log_every);
}

void TrainPrinter::note(const std::string& line) {
  if (bar_) bar_->finish();
  bar_.reset();
  std::fprintf(stderr, "%s\n", line.c_str());
}

void TrainPrinter::on_progress(int64_t epoch, int64_t batch, int64_t batches, double smoothed_loss) {
  if (epoch != bar_epoch_ || !bar_) {
    if (bar_) bar_->finish();
    bar_ = std::make_unique<ProgressBar>("epoch " + std::to_string(epoch), static_cast<int>(batches),
                                         static_cast<double>(batch_size_), log_every_);
    bar_epoch_ = epoch;
  }
  char extra[64];
  std::snprintf(extra, sizeof extra, "loss %.4f", smoothed_loss);
  bar_->update(static_cast<int>(batch), extra);
}

void TrainPrinter::on_epoch(const EpochRecord& r) {
  if (bar_) bar_->finish();
  bar_.reset();
  if (r.val)
    std::fprintf(stderr, "epoch %lld: train loss %.4f  val loss %.4f  val acc %.3f  val AUROC %.3f\n",
                 static_cast<long long>(r.epoch), r.train_loss, r.val->loss, r.val->metrics.accuracy,
                 r.val->metrics.macro_auroc);
  else
    std::fprintf(stderr, "epoch %lld: train loss %.4f\n", static_cast<long long>(r.epoch), r.train_loss);
}

}  // namespace cxr::cli
