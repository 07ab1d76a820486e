#include "plugins/mpi/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "core/errors.h"

namespace cxr {
namespace {

// Collectives take int counts: larger buffers go in pieces of at most this many elements.
constexpr int64_t kChunk = INT_MAX / 8;

std::string mpi_message(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, static_cast<size_t>(len));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
      // The reducer's thread makes the allreduces while the main thread computes; without
      // SyncBatchNorm the two never call MPI at the same time, so SERIALIZED is enough. With it
      // the main thread allreduces statistics on a duplicate while the reducer's thread
      // allreduces buckets: duplicate() requires MULTIPLE.
      if (provided < MPI_THREAD_SERIALIZED)
        throw RuntimeFailure("MPI provides thread level " + std::to_string(provided) +
                             ", below MPI_THREAD_SERIALIZED which the gradient thread needs");
      owns_init_ = true;
    }
    MPI_Query_thread(&thread_level_);
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    MPI_Comm node;
    MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local_rank_);
    MPI_Comm_size(node, &local_size_);
    MPI_Comm_free(&node);
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    library_ = std::string(version, static_cast<size_t>(len));
    library_ = library_.substr(0, library_.find(','));
  }

  ~MpiCommunicator() override {
    MPI_Comm_free(&comm_);
    if (owns_init_) MPI_Finalize();
  }

  // A duplicate of this one's MPI_Comm: the same ranks, a separate matching context (MPI_Comm_dup
  // is collective), so another thread's collectives on it never pair with this one's.
  std::unique_ptr<Communicator> duplicate() override {
    if (thread_level_ < MPI_THREAD_MULTIPLE)
      throw RuntimeFailure(library_ + " provides thread level " + std::to_string(thread_level_) +
                           ", below MPI_THREAD_MULTIPLE, which train.sync_bn: true needs (its statistics are "
                           "allreduced while the gradient thread allreduces buckets); use train.sync_bn: false");
    return std::unique_ptr<Communicator>(new MpiCommunicator(*this));
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  std::string describe() const override {
    return "mpi " + std::to_string(size_) + " ranks (" + library_ + ")";
  }

  void allreduce_sum(float* data, int64_t n) override { allreduce(data, n, MPI_FLOAT, sizeof(float)); }
  void allreduce_sum(double* data, int64_t n) override { allreduce(data, n, MPI_DOUBLE, sizeof(double)); }

  void broadcast(void* data, int64_t bytes, int root) override {
    auto* p = static_cast<char*>(data);
    for (int64_t at = 0; at < bytes; at += kChunk)
      check(MPI_Bcast(p + at, static_cast<int>(std::min(kChunk, bytes - at)), MPI_BYTE, root, comm_), "broadcast");
  }

  std::vector<std::string> allgather(const std::string& mine) override {
    const auto n = static_cast<long long>(mine.size());
    std::vector<long long> sizes(static_cast<size_t>(size_));
    check(MPI_Allgather(&n, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, comm_), "allgather");
    std::vector<int> counts(static_cast<size_t>(size_)), displs(static_cast<size_t>(size_));
    long long total = 0;
    for (int r = 0; r < size_; ++r) {
      if (sizes[static_cast<size_t>(r)] > INT_MAX || total > INT_MAX)
        throw RuntimeFailure("allgather: more than 2 GiB of evaluation results");
      counts[static_cast<size_t>(r)] = static_cast<int>(sizes[static_cast<size_t>(r)]);
      displs[static_cast<size_t>(r)] = static_cast<int>(total);
      total += sizes[static_cast<size_t>(r)];
    }
    std::string all(static_cast<size_t>(total), '\0');
    check(MPI_Allgatherv(mine.data(), static_cast<int>(n), MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE,
                         comm_),
          "allgather");
    std::vector<std::string> out;
    for (int r = 0; r < size_; ++r)
      out.push_back(all.substr(static_cast<size_t>(displs[static_cast<size_t>(r)]), static_cast<size_t>(counts[static_cast<size_t>(r)])));
    return out;
  }

  void barrier() override { check(MPI_Barrier(comm_), "barrier"); }

  void abort(int exit_code) override { MPI_Abort(comm_, exit_code); }

 private:
  // duplicate(): the same ranks over a dup of `of`'s communicator; it does not own MPI's init.
  MpiCommunicator(const MpiCommunicator& of)
      : rank_(of.rank_), size_(of.size_), local_rank_(of.local_rank_), local_size_(of.local_size_),
        thread_level_(of.thread_level_), library_(of.library_) {
    check(MPI_Comm_dup(of.comm_, &comm_), "comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  }

  void allreduce(void* data, int64_t n, MPI_Datatype type, size_t elem) {
    auto* p = static_cast<char*>(data);
    for (int64_t at = 0; at < n; at += kChunk)
      check(MPI_Allreduce(MPI_IN_PLACE, p + at * static_cast<int64_t>(elem), static_cast<int>(std::min(kChunk, n - at)),
                          type, MPI_SUM, comm_),
            "allreduce");
  }

  void check(int code, const char* what) const {
    if (code != MPI_SUCCESS)
      throw RuntimeFailure("rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": MPI " + what +
                           " failed: " + mpi_message(code) + " (another rank has probably died)");
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  int thread_level_ = MPI_THREAD_SINGLE;
  bool owns_init_ = false;
  std::string library_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_world() { return std::make_unique<MpiCommunicator>(); }

}  // namespace cxr
