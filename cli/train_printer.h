// What `cxrtune train` shows on stderr while the job runs: its notes, a progress bar per epoch,
// one summary line per epoch.
#pragma once
#include <memory>

#include "cli/progress_bar.h"
#include "job/job_observer.h"

namespace cxr::cli {

class TrainPrinter : public JobObserver {
 public:
  void on_train_start(int64_t batch_size, int64_t log_every) override;
  void note(const std::string& line) override;
  void on_progress(int64_t epoch, int64_t batch, int64_t batches, double smoothed_loss) override;
  void on_epoch(const EpochRecord& record) override;

 private:
  int64_t batch_size_ = 1;
  int log_every_ = 10;
  std::unique_ptr<ProgressBar> bar_;
  int64_t bar_epoch_ = -1;
};

}  // namespace cxr::cli
