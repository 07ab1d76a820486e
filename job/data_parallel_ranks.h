// What the ranks other than 0 of a data-parallel run (docs/distributed.md) use in the training
// job: a sink and an observer that write and say nothing (rank 0 alone writes the run directory
// and talks to the user), and rank 0's resume state sent to them, so that they read no file.
#pragma once
#include "engine/communicator.h"
#include "engine/optimizer.h"
#include "engine/trainer.h"
#include "job/job_observer.h"

namespace cxr {

// The sink of ranks other than 0 in a data-parallel run: they run the same loop, rank 0 alone
// writes the run directory.
class SilentSink final : public RunSink {
 public:
  void on_step(const StepRecord&) override {}
  void on_epoch(const EpochRecord&) override {}
  void save_checkpoint(const std::string&, const TrainPosition&) override {}
};

class SilentObserver final : public JobObserver {};

// Rank 0's resume position and optimizer state (and step count) on every rank.
void share_resume_state(Communicator& world, TrainPosition& position, Optimizer& optimizer, Backend& backend);

}  // namespace cxr
