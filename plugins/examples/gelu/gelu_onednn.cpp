// GELU on oneDNN (eltwise gelu_erf), in whatever layout its input arrives in.
#include "plugins/examples/gelu/gelu.h"
#include "plugins/onednn/onednn_util.h"

namespace cxr::gelu {
namespace {

class GeluOnednn final : public Layer {
 public:
  explicit GeluOnednn(Backend& backend) : be_(dnn::onednn(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    auto& eng = be_.engine();
    const dnnl::memory::desc data = dnn::md_of(in[0]);
    auto fwd = dnn::checked("eltwise gelu forward", "gelu", in[0].str(), [&] {
      return dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_gelu_erf,
                                      data, 0.f, 0.f),
          eng);
    });
    fwd_ = dnn::Op(dnnl::eltwise_forward(fwd), "eltwise gelu forward");
    fwd_.arg(DNNL_ARG_SRC, data, eng);
    fwd_.arg(DNNL_ARG_DST, data, eng);
    if (info.training) {
      auto bwd = dnn::checked("eltwise gelu backward", "gelu", in[0].str(), [&] {
        return dnnl::eltwise_backward::primitive_desc(
            dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_gelu_erf, data, data, 0.f, 0.f), eng, fwd);
      });
      bwd_ = dnn::Op(dnnl::eltwise_backward(bwd), "eltwise gelu backward");
      for (int a : {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}) bwd_.arg(a, data, eng);
    }
    return in[0];
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    fwd_.bind(DNNL_ARG_SRC, x[0]->data());
    fwd_.bind(DNNL_ARG_DST, y.data());
    fwd_.run(be_.stream(), "gelu");
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    bwd_.bind(DNNL_ARG_SRC, x[0]->data());
    bwd_.bind(DNNL_ARG_DIFF_DST, dy.data());
    bwd_.bind(DNNL_ARG_DIFF_SRC, dx[0]->data());
    bwd_.run(be_.stream(), "gelu");
  }
  bool backward_reads_output() const override { return false; }

 private:
  OnednnBackend& be_;
  dnn::Op fwd_, bwd_;
};

}  // namespace

std::unique_ptr<Layer> make_gelu_onednn(const OpParams&, Backend& backend) {
  return std::make_unique<GeluOnednn>(backend);
}

}  // namespace cxr::gelu
