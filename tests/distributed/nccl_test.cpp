// The NCCL communicator on one rank (the GPU machines of this work have one GPU): sums of
// floats and doubles go through the device and come back unchanged (a sum over one rank), large
// buffers too; broadcast and allgather go through the bootstrap. Skipped without a GPU.
#include <gtest/gtest.h>

#include <vector>

#include "plugins/nccl/nccl_communicator.h"

namespace cxr {
namespace {

TEST(NcclCommunicator, OneRankSumsRoundTripThroughTheDevice) {
  if (nccl_visible_devices() == 0) GTEST_SKIP() << "no CUDA device visible: the NCCL communicator needs a GPU";
  SingleProcess bootstrap;
  auto nccl = make_nccl_communicator(bootstrap, 0);
  EXPECT_EQ(nccl->size(), 1);
  std::vector<float> f(3 << 20);
  for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(i % 1000) * 0.5f - 7.0f;
  const std::vector<float> before = f;
  nccl->allreduce_sum(f.data(), static_cast<int64_t>(f.size()));
  EXPECT_EQ(f, before);
  std::vector<double> d = {1.5, -2.25, 1e300};
  nccl->allreduce_sum(d.data(), 3);
  EXPECT_EQ(d, (std::vector<double>{1.5, -2.25, 1e300}));
  EXPECT_EQ(nccl->allgather("x"), std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace cxr
