// GradientReducer: sums the parameter gradients of a step's micro-batches (train.accumulate_steps)
// and averages them over the ranks of a data-parallel run (issue #20), overlapped with backward.
//
// Network::backward overwrites parameter gradients, so each micro-batch's gradients are added
// into one flat host buffer as soon as their node's backward step is done (BackwardObserver).
// The buffer is cut into buckets of about 25 MB in reverse parameter order (the order backward
// finishes them, as PyTorch DDP); in the last micro-batch a bucket whose gradients are all in is
// handed to a communication thread that allreduces it while backward goes on (Open MPI does not
// progress nonblocking collectives by itself, a thread blocking in MPI_Allreduce does).
// finish() waits for the buckets and writes sum · scale back into the parameters' gradients.
//
// Parameters whose node never reports (a frozen stage's) are taken in finish(), so every
// trainable parameter is reduced exactly once per step, on every rank in the same order.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/communicator.h"
#include "engine/network.h"

namespace cxr {

class GradientReducer final : public BackwardObserver {
 public:
  static constexpr int64_t kDefaultBucketBytes = 25 << 20;
  // The trainable parameters with gradients of `net` as it is prepared now.
  GradientReducer(Network& net, Communicator& comm, int64_t bucket_bytes = kDefaultBucketBytes);
  ~GradientReducer() override;
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Before micro-batch `index` (0-based) of `count`: the first overwrites the buffer, the last
  // starts the allreduces.
  void begin_micro_batch(int64_t index, int64_t count);
  void gradients_ready(size_t node) override;
  // After each micro-batch's backward: takes the parameters no node reported.
  void end_micro_batch();
  // After the last micro-batch's backward: every gradient := (sum over micro-batches and ranks)
  // · scale. Rethrows a communication failure.
  void finish(double scale);

  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }
  int64_t floats() const { return static_cast<int64_t>(flat_.size()); }
  // Seconds the last finish() waited for allreduces still running after backward, and the
  // seconds the communication thread spent in them (the rest overlapped with backward).
  double last_wait_s() const { return wait_s_; }
  double last_comm_s() const { return comm_s_; }

 private:
  struct Bucket {
    int64_t begin = 0, end = 0;  // float range of flat_
    int64_t pending = 0;         // parameters not yet added in the last micro-batch
  };
  void take(size_t param);  // adds param's gradient into flat_
  void launch(size_t bucket);
  void comm_loop();

  Network& net_;
  Communicator& comm_;
  std::vector<Parameter*> params_;
  std::vector<int64_t> offset_;              // per parameter, into flat_
  std::vector<size_t> bucket_of_;            // per parameter
  std::vector<std::vector<size_t>> by_node_; // node -> parameters
  std::vector<Bucket> buckets_;
  std::vector<float> flat_, staging_;
  std::vector<bool> taken_;                  // this micro-batch
  int64_t micro_ = 0, micro_count_ = 1;

  // Communication thread: buckets queued in launch order, done when `completed_` reaches it.
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<size_t> queue_;
  size_t queued_ = 0, completed_ = 0;  // completed_ indexes queue_
  bool stopping_ = false;
  std::exception_ptr error_;
  double wait_s_ = 0, comm_s_ = 0, comm_acc_s_ = 0;
};

}  // namespace cxr
