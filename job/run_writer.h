// RunWriter: the trainer's RunSink that writes a run directory (docs/run-directory.md):
// metrics.jsonl (one step record per optimizer step, one epoch record per epoch, appended and
// flushed as training goes), weight_change.json, val_predictions.json (the last validation's
// per-sample probabilities, for the report's ROC and confusion matrix; ids are paths relative to
// the data root, nothing identifying). Progress and epoch summaries go to a JobObserver; checkpoints
// are delegated.
#pragma once
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/trainer.h"
#include "job/job_observer.h"

namespace cxr {

// One Youden's-J threshold per class (engine/operating_point_selection.h) on a validation's
// probabilities, ignored labels (target < 0) left out; 0.5 where the class lacks positives or
// negatives. A JSON array in class order: the checkpoint metadata "thresholds".
nlohmann::json youden_thresholds(const EvalResult& validation);

class RunWriter : public RunSink {
 public:
  // `extra`: metadata the writer adds to the checkpoint (the best one's thresholds).
  using SaveCheckpoint = std::function<void(const std::string& name, const TrainPosition&,
                                            const std::map<std::string, std::string>& extra)>;
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
  std::optional<EpochRecord> pending_;  // the latest validated epoch, until a best save takes it
  std::map<std::string, std::string> best_extra_;
  int64_t best_step_ = -1;              // the position (step) best_extra_ describes
};

}  // namespace cxr
