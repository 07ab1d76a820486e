// What the cuDNN layers ask of cuDNN, checked on the host for every shape of a ResNet-50 at 224²
// and every dtype: tensor and convolution specs, the real cuDNN descriptors set from them (cuDNN's
// descriptor calls need no GPU) and the output size cuDNN derives, the algorithm choice rule, and
// the typed errors for what cuDNN cannot take. Needs no GPU.
#include <gtest/gtest.h>

#include <set>

#include "core/errors.h"
#include "engine/resnet.h"
#include "plugins/cudnn/conv_algo_choice.h"
#include "plugins/cudnn/cudnn_backend.h"
#include "plugins/cudnn/cudnn_util.h"
#include "plugins/cudnn/descriptor_plan.h"
#include "engine/ops/add.h"
#include "engine/ops/batchnorm2d.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/flatten.h"
#include "engine/ops/global_avgpool.h"
#include "engine/ops/linear.h"
#include "engine/ops/maxpool2d.h"
#include "engine/ops/relu.h"

namespace cxr::gpu {
namespace {

struct Layer4 {
  std::string name;
  const OpParams* params;
  Shape input;
};

// Every node of ResNet-50 with its (first) input shape, by shape inference over the graph.
std::vector<Layer4> resnet50_layers(int64_t batch, int64_t size) {
  static const Graph graph = build_resnet({"resnet50", 14, 3});
  std::vector<Shape> out;
  std::vector<Layer4> layers;
  for (const NodeSpec& node : graph.nodes) {
    std::vector<Shape> in;
    for (int i : node.inputs) in.push_back(i == NodeSpec::kInput ? Shape{batch, 3, size, size} : out[i]);
    const OpParams& p = *node.params;
    Shape y;
    if (auto* c = dynamic_cast<const ops::Conv2dParams*>(&p)) y = c->output_shape(in);
    else if (auto* b = dynamic_cast<const ops::BatchNorm2dParams*>(&p)) y = b->output_shape(in);
    else if (auto* a = dynamic_cast<const ops::AddParams*>(&p)) y = a->output_shape(in);
    else if (auto* m = dynamic_cast<const ops::MaxPool2dParams*>(&p)) y = m->output_shape(in);
    else if (auto* g = dynamic_cast<const ops::GlobalAvgPoolParams*>(&p)) y = g->output_shape(in);
    else if (auto* f = dynamic_cast<const ops::FlattenParams*>(&p)) y = f->output_shape(in);
    else if (auto* l = dynamic_cast<const ops::LinearParams*>(&p)) y = l->output_shape(in);
    else if (auto* r = dynamic_cast<const ops::ReluParams*>(&p)) y = r->output_shape(in);
    else ADD_FAILURE() << "unknown op " << p.op();
    out.push_back(y);
    layers.push_back({node.name, &p, in.at(0)});
  }
  return layers;
}

TEST(CudnnDescriptorPlan, EveryResNet50ConvolutionInEveryDtype) {
  const auto layers = resnet50_layers(32, 224);
  int convs = 0;
  std::set<std::string> keys;
  for (const DType dt : {DType::F32, DType::BF16, DType::F16}) {
    for (const Layer4& l : layers) {
      const auto* p = dynamic_cast<const ops::Conv2dParams*>(l.params);
      if (!p) continue;
      ++convs;
      const std::string where = l.name + " " + p->str();
      const ConvSpec s = conv_spec(*p, l.input, dt, where);
      const Shape out = p->output_shape(std::vector<Shape>{l.input});
      EXPECT_EQ(s.x.format, CUDNN_TENSOR_NHWC);
      EXPECT_EQ(s.x.type, cudnn_type(dt));
      EXPECT_EQ(s.filter_type, s.x.type);
      EXPECT_EQ((Shape{s.x.n, s.x.c, s.x.h, s.x.w}), l.input);
      EXPECT_EQ((Shape{s.y.n, s.y.c, s.y.h, s.y.w}), out);
      EXPECT_EQ(s.math, dt == DType::F32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH) << "no TF32 for f32";
      EXPECT_EQ(s.exact_f32, dt == DType::F32);
      // The real descriptors, and the output cuDNN derives from them, equal the op's.
      TensorDescriptor x;
      FilterDescriptor w;
      ConvDescriptor c;
      set_tensor(x.get(), nhwc_desc(l.input, dt), where);
      ASSERT_EQ(cudnnSetFilter4dDescriptor(w.get(), s.filter_type, CUDNN_TENSOR_NHWC, s.k, s.c, s.r, s.s),
                CUDNN_STATUS_SUCCESS);
      ASSERT_EQ(cudnnSetConvolution2dDescriptor(c.get(), s.pad, s.pad, s.stride, s.stride, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                CUDNN_STATUS_SUCCESS);
      ASSERT_EQ(cudnnSetConvolutionMathType(c.get(), s.math), CUDNN_STATUS_SUCCESS);
      int d[4] = {};
      ASSERT_EQ(cudnnGetConvolution2dForwardOutputDim(c.get(), x.get(), w.get(), &d[0], &d[1], &d[2], &d[3]),
                CUDNN_STATUS_SUCCESS);
      EXPECT_EQ((Shape{d[0], d[1], d[2], d[3]}), out) << where;
      for (const char* pass : {"fwd", "bwd_data", "bwd_filter"}) keys.insert(conv_algo_key(pass, s));
    }
  }
  EXPECT_EQ(convs, 3 * 53);
  // Keys separate passes, dtypes and shapes, and equal shapes share one: ResNet-50 has 23
  // distinct convolution searches per pass and dtype at this size.
  EXPECT_EQ(keys.size(), 3u * 3u * 23u);
}

TEST(CudnnDescriptorPlan, EveryResNet50ActivationTensorAndBatchNorm) {
  for (const DType dt : {DType::F32, DType::BF16, DType::F16})
    for (const Layer4& l : resnet50_layers(32, 224)) {
      const TensorDesc desc = l.input.size() == 4 ? nhwc_desc(l.input, dt) : plain_desc(l.input);
      const TensorSpec s = tensor_spec(desc, l.name);
      EXPECT_EQ(s.format, l.input.size() == 4 ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW) << l.name;
      EXPECT_EQ(static_cast<int64_t>(s.n) * s.c * s.h * s.w, numel(l.input));
      if (!dynamic_cast<const ops::BatchNorm2dParams*>(l.params)) continue;
      TensorDescriptor x, stats;
      set_tensor(x.get(), desc, l.name);
      ASSERT_EQ(cudnnDeriveBNTensorDescriptor(stats.get(), x.get(), CUDNN_BATCHNORM_SPATIAL), CUDNN_STATUS_SUCCESS);
      cudnnDataType_t type{};
      int n = 0, c = 0, h = 0, w = 0, sn = 0, sc = 0, sh = 0, sw = 0;
      ASSERT_EQ(cudnnGetTensor4dDescriptor(stats.get(), &type, &n, &c, &h, &w, &sn, &sc, &sh, &sw),
                CUDNN_STATUS_SUCCESS);
      EXPECT_EQ(type, CUDNN_DATA_FLOAT) << "f32 statistics for " << to_string(dt);
      EXPECT_EQ(c, l.input[1]);
    }
}

// numel ≤ INT32_MAX, not each dimension: conv1's [N, 64, 512, 512] at batch 128 is 2^31 elements.
TEST(CudnnDescriptorPlan, OversizedAndUnsupportedTensorsAreGraphErrorsNamingTheLayer) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const GraphError& e) {
      return std::string(e.what());
    }
    return std::string("no GraphError");
  };
  const Shape big{128, 64, 512, 512};
  EXPECT_NO_THROW(tensor_spec(nhwc_desc({127, 64, 512, 512}, DType::BF16), "bn1"));
  std::string m = message([&] { tensor_spec(nhwc_desc(big, DType::BF16), "bn1 batchnorm2d(64)"); });
  EXPECT_NE(m.find("bn1 batchnorm2d(64)"), std::string::npos) << m;
  EXPECT_NE(m.find("2147483648"), std::string::npos) << m;
  TensorDescriptor td;
  m = message([&] { set_tensor(td.get(), nhwc_desc(big, DType::F16), "layer1.0.bn1"); });
  EXPECT_NE(m.find("layer1.0.bn1"), std::string::npos) << m;
  ops::Conv2dParams conv1;
  conv1.in_channels = 3, conv1.out_channels = 64, conv1.kernel = 7, conv1.stride = 2, conv1.padding = 3;
  m = message([&] { conv_spec(conv1, {128, 3, 1024, 1024}, DType::BF16, "conv1"); });
  EXPECT_NE(m.find("conv1"), std::string::npos) << m;
  EXPECT_NO_THROW(conv_spec(conv1, {64, 3, 1024, 1024}, DType::BF16, "conv1"));
  m = message([&] { tensor_spec(plain_desc({4, 3}, DType::I64), "fc linear(3->4)"); });
  EXPECT_NE(m.find("fc linear(3->4)"), std::string::npos) << m;
  m = message([&] { format_of(TensorDesc{{2, 3}, DType::F32, nullptr}, "flatten"); });
  EXPECT_NE(m.find("flatten"), std::string::npos) << m;
  m = message([&] { cudnn_type(DType::I64, "loss"); });
  EXPECT_NE(m.find("loss"), std::string::npos) << m;
}

template <class Perf>
Perf perf(int algo, bool deterministic, size_t memory = 0, cudnnMathType_t math = CUDNN_DEFAULT_MATH,
          cudnnStatus_t status = CUDNN_STATUS_SUCCESS) {
  Perf p{};
  p.algo = static_cast<decltype(p.algo)>(algo);
  p.status = status;
  p.memory = memory;
  p.determinism = deterministic ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
  p.mathType = math;
  return p;
}

TEST(CudnnDescriptorPlan, AlgorithmChoicePrefersDeterministicWithinLimits) {
  using P = cudnnConvolutionBwdFilterAlgoPerf_t;
  const size_t mib = size_t{1} << 20;
  // Ranked fastest first: a nondeterministic ALGO_0, a failed one, one over the limit, a TF32
  // one, then the deterministic candidates.
  const P ranked[] = {perf<P>(0, false), perf<P>(5, true, 0, CUDNN_DEFAULT_MATH, CUDNN_STATUS_NOT_SUPPORTED),
                      perf<P>(4, true, 64 * mib), perf<P>(6, true, 0, CUDNN_TENSOR_OP_MATH),
                      perf<P>(1, true, mib), perf<P>(3, true)};
  bool deterministic = false;
  const P* p = pick_algo(ranked, 6, /*exact_f32=*/true, 8 * mib, &deterministic);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->algo, 1);
  EXPECT_TRUE(deterministic);
  p = pick_algo(ranked, 6, /*exact_f32=*/false, 8 * mib);  // tensor-op math allowed in bf16/f16
  EXPECT_EQ(p->algo, 6);
  p = pick_algo(ranked, 6, true, 128 * mib);
  EXPECT_EQ(p->algo, 4);
  // Only a nondeterministic candidate qualifies: taken, and reported as such.
  p = pick_algo(ranked, 1, true, 8 * mib, &deterministic);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->algo, 0);
  EXPECT_FALSE(deterministic);
  EXPECT_EQ(pick_algo(ranked + 1, 3, true, 8 * mib), nullptr);
}

}  // namespace
}  // namespace cxr::gpu
