// A Communicator over threads of one process (tests only): N "ranks" run in N threads and meet
// at a barrier for every collective. The sums add the ranks' values in rank order, so every rank
// gets the same bits, as MPI's allreduce gives them. Lets the data-parallel tests run the real
// Trainer on several ranks without mpirun, and read every rank's weights.
// duplicate() gives a communicator over a second group of the same threads (MPI_Comm_dup's
// counterpart): its collectives meet at their own barrier, so two threads of each rank (the
// gradient reducer's and the main one's SyncBatchNorm) may use the two at the same time.
#pragma once
#include <barrier>
#include <mutex>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/communicator.h"

namespace cxr::test {

class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : size_(size), barrier_(size), slots_(static_cast<size_t>(size)), strings_(static_cast<size_t>(size)) {}
  int size() const { return size_; }

  template <typename T>
  void allreduce(int rank, T* data, int64_t n) {
    slots_[static_cast<size_t>(rank)] = data;
    barrier_.arrive_and_wait();
    std::vector<T> sum(static_cast<size_t>(n), T(0));
    for (int r = 0; r < size_; ++r) {
      const T* src = static_cast<const T*>(slots_[static_cast<size_t>(r)]);
      for (int64_t i = 0; i < n; ++i) sum[static_cast<size_t>(i)] += src[i];
    }
    barrier_.arrive_and_wait();  // everyone has read every slot before anyone overwrites its own
    std::memcpy(data, sum.data(), sizeof(T) * static_cast<size_t>(n));
  }
  void broadcast(int rank, void* data, int64_t bytes, int root) {
    if (rank == root) slots_[static_cast<size_t>(root)] = data;
    barrier_.arrive_and_wait();
    if (rank != root) std::memcpy(data, slots_[static_cast<size_t>(root)], static_cast<size_t>(bytes));
    barrier_.arrive_and_wait();
  }
  std::vector<std::string> allgather(int rank, const std::string& mine) {
    strings_[static_cast<size_t>(rank)] = mine;
    barrier_.arrive_and_wait();
    std::vector<std::string> out = strings_;
    barrier_.arrive_and_wait();
    return out;
  }
  void barrier() { barrier_.arrive_and_wait(); }
  // Collective: the `index`-th duplicate of this group (every rank asks for the same index).
  ThreadGroup& child(int64_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int64_t>(children_.size()) <= index) children_.push_back(std::make_unique<ThreadGroup>(size_));
    return *children_[static_cast<size_t>(index)];
  }

 private:
  int size_;
  std::barrier<> barrier_;
  std::vector<void*> slots_;
  std::vector<std::string> strings_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<ThreadGroup>> children_;  // live as long as this group
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  std::string describe() const override { return "threads"; }
  void allreduce_sum(float* data, int64_t n) override { group_.allreduce(rank_, data, n); }
  void allreduce_sum(double* data, int64_t n) override { group_.allreduce(rank_, data, n); }
  void broadcast(void* data, int64_t bytes, int root) override { group_.broadcast(rank_, data, bytes, root); }
  std::vector<std::string> allgather(const std::string& mine) override { return group_.allgather(rank_, mine); }
  void barrier() override { group_.barrier(); }
  std::unique_ptr<Communicator> duplicate() override {
    return std::make_unique<ThreadCommunicator>(group_.child(duplicates_++), rank_);
  }

 private:
  ThreadGroup& group_;
  int rank_;
  int64_t duplicates_ = 0;  // this rank's duplicate() calls so far: the same sequence on every rank
};

// Runs body(rank, communicator) on `ranks` threads, one ThreadCommunicator each, and waits for all.
template <typename Body>
void run_on_ranks(int ranks, Body body) {
  ThreadGroup group(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&group, &body, r] {
      ThreadCommunicator comm(group, r);
      body(r, comm);
    });
  for (std::thread& t : threads) t.join();
}

}  // namespace cxr::test
