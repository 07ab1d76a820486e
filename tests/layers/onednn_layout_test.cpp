// The oneDNN backend's activation layout (plugins/onednn/onednn_backend.h): bf16 on a CPU with
// AMX runs in nhwc, the only layout oneDNN 2.6's AMX convolutions take (given nChw16c it falls
// back to the AVX512_BF16 kernels, 4–10× slower on ResNet-50's convolutions); f32 and bf16
// without AMX stay channel-blocked by the vector width. The describe() string (run_info.json,
// the progress line) names the layout. The bf16 conv2d parity case (backend_parity_test.cpp)
// runs both weight-gradient paths on an AMX CPU: AMX in nhwc, and nChw16c for the shapes where
// the AMX weight gradient is slow.
#include <gtest/gtest.h>

#include "plugins/onednn/onednn_backend.h"

namespace cxr {
namespace {

using tag = dnnl::memory::format_tag;

TEST(OnednnLayout, Bf16OnAmxIsNhwcEverythingElseBlocked) {
  const OnednnBackend f32(1, DType::F32);
  const tag blocked = dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core ? tag::nChw16c : tag::nChw8c;
  EXPECT_EQ(f32.activation_tag(), blocked);
  EXPECT_NE(f32.describe().find(blocked == tag::nChw16c ? "nChw16c" : "nChw8c"), std::string::npos) << f32.describe();
  if (!OnednnBackend::has_native_bf16()) GTEST_SKIP() << "no AVX512_BF16 or AMX on this CPU: the bf16 layout is not chosen here";
  const OnednnBackend bf16(1, DType::BF16);
  if (OnednnBackend::has_amx()) {
    EXPECT_EQ(bf16.activation_tag(), tag::nhwc);
    EXPECT_NE(bf16.describe().find("bf16, nhwc"), std::string::npos) << bf16.describe();
  } else {
    EXPECT_EQ(bf16.activation_tag(), blocked);
  }
}

}  // namespace
}  // namespace cxr
