// JobObserver: what a job tells whoever runs it, to show the user (the CLI prints it on stderr;
// tests and the data-parallel launcher may ignore it or collect it). The job itself writes files
// only; every line meant for a person goes through here.
#pragma once
#include <cstdint>
#include <string>

#include "engine/trainer.h"

namespace cxr {

class JobObserver {
 public:
  virtual ~JobObserver() = default;
  // One line of information ("resume: train.epochs 1 -> 2", "weights: ...").
  virtual void note(const std::string& /*line*/) {}
  // Before the first step: the images per step and the recipe's train.log_every.
  virtual void on_train_start(int64_t /*batch_size*/, int64_t /*log_every*/) {}
  // After each optimizer step: `batch` of `batches` done in `epoch`; the loss smoothed over steps.
  virtual void on_progress(int64_t /*epoch*/, int64_t /*batch*/, int64_t /*batches*/, double /*smoothed_loss*/) {}
  // After each epoch's record was written.
  virtual void on_epoch(const EpochRecord& /*record*/) {}
};

}  // namespace cxr
