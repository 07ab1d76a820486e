#include "engine/resnet.h"

#include "core/errors.h"
#include "core/stages.h"
#include "engine/ops/add.h"
#include "engine/ops/batchnorm2d.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/flatten.h"
#include "engine/ops/global_avgpool.h"
#include "engine/ops/linear.h"
#include "engine/ops/maxpool2d.h"

namespace cxr {
namespace {

struct ArchSpec {
  const char* name;
  bool bottleneck;
  int blocks[4];
};

constexpr ArchSpec kArchs[] = {
    {"resnet18", false, {2, 2, 2, 2}},
    {"resnet34", false, {3, 4, 6, 3}},
    {"resnet50", true, {3, 4, 6, 3}},
    {"resnet101", true, {3, 4, 23, 3}},
};

class GraphBuilder {
 public:
  explicit GraphBuilder(Graph& g) : g_(g) {}

  int add(std::string name, std::string stage, std::shared_ptr<const OpParams> params,
          std::vector<int> inputs) {
    g_.nodes.push_back({std::move(name), std::move(stage), std::move(params), std::move(inputs)});
    return static_cast<int>(g_.nodes.size() - 1);
  }
  int conv(const std::string& name, const std::string& stage, int in, int64_t cin, int64_t cout,
           int64_t k, int64_t stride) {
    auto p = std::make_shared<ops::Conv2dParams>();
    p->in_channels = cin;
    p->out_channels = cout;
    p->kernel = k;
    p->stride = stride;
    p->padding = k / 2;
    return add(name, stage, p, {in});
  }
  int bn(const std::string& name, const std::string& stage, int in, int64_t c, bool relu) {
    auto p = std::make_shared<ops::BatchNorm2dParams>();
    p->channels = c;
    p->fuse_relu = relu;
    return add(name, stage, p, {in});
  }

 private:
  Graph& g_;
};

// torchvision BasicBlock / Bottleneck: conv-bn pairs, then downsample, then add + relu.
int residual_block(GraphBuilder& b, const std::string& name, const std::string& stage, int in,
                   int64_t inplanes, int64_t planes, int64_t stride, bool bottleneck) {
  const int64_t expansion = bottleneck ? 4 : 1;
  const int64_t outplanes = planes * expansion;
  int x;
  if (bottleneck) {
    x = b.conv(name + ".conv1", stage, in, inplanes, planes, 1, 1);
    x = b.bn(name + ".bn1", stage, x, planes, true);
    x = b.conv(name + ".conv2", stage, x, planes, planes, 3, stride);
    x = b.bn(name + ".bn2", stage, x, planes, true);
    x = b.conv(name + ".conv3", stage, x, planes, outplanes, 1, 1);
    x = b.bn(name + ".bn3", stage, x, outplanes, false);
  } else {
    x = b.conv(name + ".conv1", stage, in, inplanes, planes, 3, stride);
    x = b.bn(name + ".bn1", stage, x, planes, true);
    x = b.conv(name + ".conv2", stage, x, planes, planes, 3, 1);
    x = b.bn(name + ".bn2", stage, x, planes, false);
  }
  int identity = in;
  if (stride != 1 || inplanes != outplanes) {
    identity = b.conv(name + ".downsample.0", stage, in, inplanes, outplanes, 1, stride);
    identity = b.bn(name + ".downsample.1", stage, identity, outplanes, false);
  }
  auto add = std::make_shared<ops::AddParams>();
  add->fuse_relu = true;
  return b.add(name + ".add", stage, add, {x, identity});
}

}  // namespace

std::vector<std::string> resnet_archs() {
  std::vector<std::string> names;
  for (const ArchSpec& a : kArchs) names.push_back(a.name);
  return names;
}

const std::vector<std::string>& resnet_stages() { return resnet_stage_names(); }

Graph build_resnet(const ResNetConfig& config) {
  const ArchSpec* spec = nullptr;
  for (const ArchSpec& a : kArchs)
    if (config.arch == a.name) spec = &a;
  if (!spec) {
    std::string known;
    for (const auto& n : resnet_archs()) known += (known.empty() ? "" : ", ") + n;
    throw UsageError("unknown architecture '" + config.arch + "' (known: " + known + ")");
  }
  if (config.num_classes < 1 || config.num_classes > 100000)
    throw UsageError("num_classes must be in 1..100000, got " + std::to_string(config.num_classes));
  if (config.in_channels != 1 && config.in_channels != 3)
    throw UsageError("in_channels must be 1 or 3, got " + std::to_string(config.in_channels));

  Graph g;
  g.arch = config.arch;
  g.stages = resnet_stages();
  g.in_channels = config.in_channels;
  g.num_classes = config.num_classes;
  GraphBuilder b(g);
  int x = b.conv("conv1", "conv1", NodeSpec::kInput, config.in_channels, 64, 7, 2);
  x = b.bn("bn1", "conv1", x, 64, true);
  x = b.add("maxpool", "conv1", std::make_shared<ops::MaxPool2dParams>(), {x});

  int64_t inplanes = 64;
  const int64_t expansion = spec->bottleneck ? 4 : 1;
  for (int l = 0; l < 4; ++l) {
    const std::string stage = "layer" + std::to_string(l + 1);
    const int64_t planes = int64_t{64} << l;
    for (int k = 0; k < spec->blocks[l]; ++k) {
      const int64_t stride = (l > 0 && k == 0) ? 2 : 1;
      x = residual_block(b, stage + "." + std::to_string(k), stage, x, inplanes, planes, stride,
                         spec->bottleneck);
      inplanes = planes * expansion;
    }
  }
  x = b.add("avgpool", "fc", std::make_shared<ops::GlobalAvgPoolParams>(), {x});
  x = b.add("flatten", "fc", std::make_shared<ops::FlattenParams>(), {x});
  auto fc = std::make_shared<ops::LinearParams>();
  fc->in_features = inplanes;
  fc->out_features = config.num_classes;
  b.add("fc", "fc", fc, {x});
  return g;
}

}  // namespace cxr
