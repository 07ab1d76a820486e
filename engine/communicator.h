// Communicator: the processes of one data-parallel run (issue #20), as the trainer needs them —
// who am I, how many are we, sum these floats over everyone, give everyone rank 0's bytes, give
// everyone everyone's bytes. The engine knows only this interface; MPI (plugins/mpi/) and NCCL
// (plugins/nccl/) implement it at the edges, and SingleProcess is the N = 1 run without either.
// Every call is collective: all ranks make the same calls in the same order.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cxr {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank among the processes of this node (the GPU a rank takes).
  virtual int local_rank() const { return rank(); }
  // Ranks on this node (they share its cores).
  virtual int local_size() const { return 1; }
  virtual std::string describe() const = 0;  // "mpi 2 ranks (Open MPI 4.1.4)", for logs

  // In place: data[i] = sum over ranks of data[i]. Every rank receives the same values.
  virtual void allreduce_sum(float* data, int64_t n) = 0;
  virtual void allreduce_sum(double* data, int64_t n) = 0;
  // `bytes` bytes at `data` on every rank become root's.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  // Every rank's `mine`, indexed by rank, on every rank (sizes may differ).
  virtual std::vector<std::string> allgather(const std::string& mine) = 0;
  virtual void barrier() = 0;
  // A second communicator over the same ranks whose collectives never match this one's
  // (MPI_Comm_dup). Collective: every rank calls it at the same point. Why it exists: two
  // threads of one rank may then run collectives at the same time, one on each, and every rank
  // still pairs them up alike — the gradient reducer's thread allreduces buckets on the trainer's
  // communicator while backward's SyncBatchNorm allreduces statistics on a duplicate (two
  // threads on ONE communicator could be matched in different orders on different ranks: wrong
  // sums or a deadlock). The duplicate may be used by another thread than this one's user at the
  // same time. Default: std::logic_error (an implementation that cannot).
  virtual std::unique_ptr<Communicator> duplicate();
  // Ends every rank of the run with this exit code (a rank failed alone; the others would wait
  // in a collective forever). Single process: returns, the caller exits normally.
  virtual void abort(int /*exit_code*/) {}
};

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string describe() const override { return "single process"; }
  void allreduce_sum(float*, int64_t) override {}
  void allreduce_sum(double*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
  std::vector<std::string> allgather(const std::string& mine) override { return {mine}; }
  void barrier() override {}
  std::unique_ptr<Communicator> duplicate() override { return std::make_unique<SingleProcess>(); }
};

// Broadcast helpers over the byte broadcast: a string (length first) and a vector of doubles.
void broadcast_string(Communicator& comm, std::string& s, int root);

}  // namespace cxr
