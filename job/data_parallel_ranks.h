// What the ranks other than 0 of a data-parallel run (docs/distributed.md) use in the training
// job: a sink and an observer that write and say nothing (rank 0 alone writes the run directory
// and talks to the user), and rank 0's resume state sent to them, so that they read no file.
// And for GPU runs of several ranks: each rank's GPU and the NCCL communicator.
#pragma once
#include <memory>
#include <string>

#include "engine/backend.h"
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

// A GPU run of several ranks: each rank takes the GPU of its node-local rank. Called before any
// CUDA call (before the backend is made), for the recipe's backend name: "cuda", "cudnn" or
// "auto" with more than one rank sets CUDA_VISIBLE_DEVICES to that one device, so the backend's
// and NCCL's device 0 is this rank's. Unset: the local rank's index; a list (the node's GPUs
// given to the job): its local-rank-th entry, UsageError when the node runs more ranks than it
// lists; one entry: left as it is (a wrapper pinned the rank already). Returns what it did, for
// the log ("" when nothing). One rank, or a CPU backend: nothing.
std::string pin_local_gpu(const Communicator& world, const std::string& backend_name);

// The communicator the trainer reduces over in a GPU run of several ranks: NCCL on this rank's
// GPU (device 0 after pin_local_gpu), bootstrapped over `world` (collective: every rank calls it
// at the same point), when `backend` is cuDNN and cxrtune was built with NCCL. Null otherwise:
// the trainer then uses `world` (MPI through host memory).
std::unique_ptr<Communicator> make_gpu_communicator(Communicator& world, const Backend& backend);

}  // namespace cxr
