#include "plugins/nccl/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

#include "core/errors.h"

namespace cxr {
namespace {

void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw RuntimeFailure(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

void nccl_check(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) throw RuntimeFailure(std::string("NCCL ") + what + ": " + ncclGetErrorString(r));
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Communicator& bootstrap, int device) : bootstrap_(bootstrap), device_(device) {
    cuda_check(cudaSetDevice(device), "cudaSetDevice");
    ncclUniqueId id;
    if (bootstrap.rank() == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    bootstrap.broadcast(&id, sizeof id, 0);
    nccl_check(ncclCommInitRank(&comm_, bootstrap.size(), id, bootstrap.rank()), "ncclCommInitRank");
    cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  ~NcclCommunicator() override {
    if (staging_) cudaFree(staging_);
    cudaStreamDestroy(stream_);
    ncclCommDestroy(comm_);
  }

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  int local_rank() const override { return bootstrap_.local_rank(); }
  int local_size() const override { return bootstrap_.local_size(); }
  std::string describe() const override {
    int version = 0;
    ncclGetVersion(&version);
    return "nccl " + std::to_string(version) + " over " + bootstrap_.describe() + ", device " + std::to_string(device_);
  }

  void allreduce_sum(float* data, int64_t n) override { sum(data, n, ncclFloat32, sizeof(float)); }
  void allreduce_sum(double* data, int64_t n) override { sum(data, n, ncclFloat64, sizeof(double)); }
  void broadcast(void* data, int64_t bytes, int root) override { bootstrap_.broadcast(data, bytes, root); }
  std::vector<std::string> allgather(const std::string& mine) override { return bootstrap_.allgather(mine); }
  void barrier() override { bootstrap_.barrier(); }
  void abort(int exit_code) override { bootstrap_.abort(exit_code); }
  // A second NCCL communicator over the same ranks and device (its own unique id, sent over the
  // bootstrap: collective), with its own stream and staging buffer, so two host threads may sum
  // at the same time. Its broadcast/allgather/barrier still go through the bootstrap.
  std::unique_ptr<Communicator> duplicate() override { return std::make_unique<NcclCommunicator>(bootstrap_, device_); }

 private:
  // Host memory in, host memory out: staged through one device buffer grown as needed.
  void sum(void* host, int64_t n, ncclDataType_t type, size_t elem) {
    if (n == 0) return;
    const size_t bytes = static_cast<size_t>(n) * elem;
    cuda_check(cudaSetDevice(device_), "cudaSetDevice");
    if (bytes > staging_bytes_) {
      if (staging_) cuda_check(cudaFree(staging_), "cudaFree");
      staging_ = nullptr;
      cuda_check(cudaMalloc(&staging_, bytes), "cudaMalloc");
      staging_bytes_ = bytes;
    }
    cuda_check(cudaMemcpyAsync(staging_, host, bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync");
    nccl_check(ncclAllReduce(staging_, staging_, static_cast<size_t>(n), type, ncclSum, comm_, stream_), "ncclAllReduce");
    cuda_check(cudaMemcpyAsync(host, staging_, bytes, cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync");
    cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

  Communicator& bootstrap_;
  int device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  void* staging_ = nullptr;
  size_t staging_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device) {
  return std::make_unique<NcclCommunicator>(bootstrap, device);
}

int nccl_visible_devices() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

}  // namespace cxr
