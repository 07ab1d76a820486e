// RunWriter: the trainer's RunSink that writes a run directory (docs/run-directory.md):
// metrics.jsonl (one step record per optimizer step, one epoch record per epoch, appended and
// flushed as training goes), weight_change.json, val_predictions.json (the last validation's
// per-sample probabilities, for the report's ROC and confusion matrix; ids are paths relative to
// the data root, nothing identifying). Progress and epoch summaries go to a JobObserver; checkpoints
// are delegated.
#pragma once
#include <functional>
#include <map>
#include <string>

#include "engine/trainer.h"
#include "job/job_observer.h"

namespace cxr {

class RunWriter : public RunSink {
 public:
  using SaveCheckpoint = std::function<void(const std::string& name, const TrainPosition&)>;
  using DescribeLast = std::function<std::string()>;
  RunWriter(std::string run_dir, std::vector<std::string> stages, int64_t batch_size,
            SaveCheckpoint save, DescribeLast describe_last, JobObserver& observer);

  void on_step(const StepRecord& record) override;
  void on_epoch(const EpochRecord& record) override;
  void save_checkpoint(const std::string& name, const TrainPosition& position) override;
  std::string last_checkpoint() const override { return describe_last_(); }
  void on_progress(int64_t epoch, int64_t batch, int64_t batches, double loss,
                   double images_per_s) override;

  void write_weight_change(const std::map<std::string, double>& change);
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::string> stages_;
  int64_t batch_size_;
  SaveCheckpoint save_;
  DescribeLast describe_last_;
  JobObserver& observer_;
  double smoothed_loss_ = -1;
};

}  // namespace cxr
