// Whether the cuDNN backend can run here, and that the answer is a reason, not a crash: without
// a GPU the probe says why, creating the backend is a UsageError carrying that reason, and the
// registry still lists every cudnn layer (registration needs no device). cuBLAS is not loaded
// with the program but opened on first use, with every entry the backend calls.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "plugins/backends.h"
#include "plugins/cudnn/cublas_api.h"
#include "plugins/cudnn/cudnn_backend.h"

namespace cxr {
namespace {

TEST(CudnnUsable, ProbeAnswersWithoutThrowing) {
  std::string why;
  bool usable = false;
  EXPECT_NO_THROW(usable = cudnn_usable(&why));
  EXPECT_NO_THROW(cudnn_usable(nullptr));
  if (!usable) {
    EXPECT_FALSE(why.empty()) << "an unusable backend must say why";
    std::printf("[cudnn] not usable here: %s\n", why.c_str());
  }
  EXPECT_EQ(backend_usable("cudnn"), usable);
}

TEST(CudnnUsable, BackendOnTheDeviceOrUsageErrorWithTheReason) {
  std::string why;
  if (!cudnn_usable(&why)) {
    try {
      make_backend("cuda", 1);
      FAIL() << "expected UsageError without a GPU";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
    GTEST_SKIP() << why;
  }
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    auto b = make_backend("cuda", 1, dt);
    EXPECT_EQ(b->name(), "cudnn");
    EXPECT_EQ(b->device(), Device::Cuda);
    EXPECT_EQ(b->compute_dtype(), dt);
    EXPECT_EQ(b->activation_desc({2, 3, 4, 5}).dtype, dt);
    EXPECT_EQ(b->activation_desc({2, 3}).dtype, DType::F32);
    std::printf("[cudnn] %s\n", b->describe().c_str());
  }
}

TEST(CudnnUsable, RegistersEveryOpOfTheCpuBackends) {
  LayerRegistry registry;
  register_all_layers(registry);
  for (const char* op : {"conv2d", "batchnorm2d", "relu", "add", "maxpool2d", "global_avgpool",
                         "flatten", "linear", "softmax_cross_entropy", "bce_with_logits"})
    EXPECT_TRUE(registry.has(op, "cudnn")) << op;
  for (const auto& [op, backend] : registry.entries()) {
    if (backend == "onednn") {
      EXPECT_TRUE(registry.has(op, "cudnn")) << op << " has a oneDNN but no cuDNN layer";
    }
  }
}

bool cublas_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str().find("libcublas") != std::string::npos;
}

TEST(CudnnUsable, CublasOpensOnFirstUseWithEveryEntry) {
  // Nothing in this process has made a cuDNN backend unless a GPU is here.
  if (!cudnn_usable()) EXPECT_FALSE(cublas_mapped()) << "libcublas was loaded with the program";
  const gpu::CublasApi& api = gpu::cublas_api();
  EXPECT_TRUE(api.cublasCreate_v2 && api.cublasDestroy_v2 && api.cublasSetStream_v2 && api.cublasSetMathMode &&
              api.cublasGemmEx && api.cublasGetStatusString && api.cublasGetStatusName);
  EXPECT_STREQ(api.cublasGetStatusName(CUBLAS_STATUS_NOT_INITIALIZED), "CUBLAS_STATUS_NOT_INITIALIZED");
  EXPECT_TRUE(cublas_mapped());
}

TEST(CudnnUsable, NhwcLayoutDescribesItself) {
  const TensorDesc d = nhwc_desc({2, 3, 4, 5}, DType::BF16);
  EXPECT_EQ(d.bytes(), 2 * 3 * 4 * 5 * 2);
  EXPECT_FALSE(d.layout->is_plain());
  EXPECT_TRUE(d.same_as(nhwc_desc({2, 3, 4, 5}, DType::BF16)));
  EXPECT_FALSE(d.same_as(plain_desc({2, 3, 4, 5}, DType::BF16)));
  EXPECT_EQ(d.str(), "[2, 3, 4, 5] bf16 nhwc");
  EXPECT_THROW(nhwc_desc({2, 3}, DType::F32), GraphError);
}

}  // namespace
}  // namespace cxr
