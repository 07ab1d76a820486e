// batchnorm2d on oneDNN, in the layout of its input (blocked inside the network). Training uses
// batch statistics (oneDNN computes mean and biased variance); the running statistics are
// updated here exactly as PyTorch does (unbiased variance, momentum). fuse_relu uses oneDNN's
// fused BN+ReLU, whose backward takes the ReLU mask from a bit workspace instead of the output.
// In training the output can be recomputed from the input and the saved batch statistics (an
// inference-mode pass over them), so the network need not keep it for the next convolution.
// A training BN without ReLU (a bottleneck's last, a downsample's) absorbs the residual add
// after it and runs batchnorm_add_kernel.h instead; its backward is oneDNN's as before, fed the
// statistics that kernel saved. bf16 (nhwc on an AMX CPU, nChw16c on other AVX512_BF16 ones)
// trains through batchnorm_bf16_kernel.h instead of oneDNN — forward (with the absorbed add), backward and recompute — and keeps no
// ReLU workspace.
// SyncBatchNorm (Context::batch_norm_group of more than one rank, train.sync_bn): training
// forward and backward run batchnorm_sync.h's loops instead of oneDNN (whose BN reduces over the
// tensor it is given, one rank's rows), with the global statistics of one allreduce each; the
// absorbed residual add and the fused ReLU are computed in those loops too, so no fusion skips
// the sync. A replay reuses the saved global statistics (no second allreduce); recompute()
// re-runs the same normalisation. Eval is unaffected (running statistics, oneDNN as before).
#include <cmath>

#include "plugins/onednn/batchnorm_sync.h"
#include "plugins/reference/batchnorm_sync.h"

#include "plugins/onednn/batchnorm_add_kernel.h"
#include "plugins/onednn/batchnorm_bf16_kernel.h"
#include "plugins/onednn/onednn_util.h"
#include "plugins/onednn/register.h"
#include "engine/ops/add.h"
#include "engine/ops/batchnorm2d.h"

namespace cxr::dnn {
namespace {

using dnnl::memory;
using flags = dnnl::normalization_flags;

class BatchNorm2dOnednn final : public Layer {
 public:
  BatchNorm2dOnednn(const ops::BatchNorm2dParams& p, Backend& backend) : p_(p), be_(onednn(backend)) {
    ops::create_batchnorm_state(p, backend, parameters_, buffers_);
    mean_ = backend.allocate(plain_desc({p.channels}));
    var_ = backend.allocate(plain_desc({p.channels}));
  }

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    const Shape out = p_.output_shape(std::vector<Shape>{in[0].shape});
    const std::string name = p_.str(), shapes = in[0].str();
    const memory::desc data = md_of(in[0]);
    training_ = info.training;
    add_ = false;  // a new prepare undoes absorb_in_training
    desc_ = in[0];
    layout_ = channel_layout_of(data);
    group_ = nullptr;
    // f32 nChw16c (AVX-512) or nChw8c (AVX2): the blockings batchnorm_add_forward reads.
    block_ = 0;
    for (const auto& [tag, width] : {std::pair{memory::format_tag::nChw16c, 16}, std::pair{memory::format_tag::nChw8c, 8}})
      if (data == memory::desc(data.dims(), memory::data_type::f32, tag)) block_ = width;
    dims_ = {out[0], out[1], block_ ? (out[1] + block_ - 1) / block_ : 0, out[2] * out[3], block_};
    // bf16 in nhwc or nChw16c, channels a multiple of 16: batchnorm_bf16_kernel.h's loops in training.
    const bool bf16_blocked = data == memory::desc(data.dims(), memory::data_type::bf16, memory::format_tag::nChw16c);
    bf16_dims_ = {out[0], out[1], out[2] * out[3], bf16_blocked};
    bf16_loops_ = training_ && batchnorm_bf16_supports(bf16_dims_) &&
                  (bf16_blocked ||
                   data == memory::desc(data.dims(), memory::data_type::bf16, memory::format_tag::nhwc));
    if (training_ && block_ && !p_.fuse_relu) lanes_.assign(static_cast<size_t>(3 * dims_.blocks * block_), 0.f);
    count_ = out[0] * out[2] * out[3];
    fwd_ = Op();
    bwd_ = Op();
    recompute_ = Op();
    workspace_ = Tensor();
    dx_scratch_ = Tensor();
    // The bf16 loops do the whole training step themselves: no oneDNN primitive (nor its scratchpad) is built.
    if (!bf16_loops_) prepare_primitives(data, info, name, shapes);
    return in[0];
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context& ctx) override {
    if (ctx.training != training_)
      throw GraphError(p_.str() + ": prepared for " + (training_ ? "training" : "eval") +
                       ", run in the other mode");
    if (training_ && ref::sync_group(ctx.batch_norm_group)) {
      forward_synced(x, y, *ref::sync_group(ctx.batch_norm_group), ctx.replaying);
      return;
    }
    group_ = nullptr;
    if (bf16_loops_) {
      batchnorm_bf16_forward(x[0]->data_as<const uint16_t>(), add_ ? x[1]->data_as<const uint16_t>() : nullptr,
                             y.data_as<uint16_t>(), bf16_dims_, parameters_[0].value.data_as<const float>(),
                             parameters_[1].value.data_as<const float>(), p_.eps, add_ ? add_relu_ : p_.fuse_relu,
                             mean_.data_as<float>(), var_.data_as<float>(), be_.threads());
    } else if (add_) {
      batchnorm_add_forward(x[0]->data_as<const float>(), x[1]->data_as<const float>(), y.data_as<float>(), dims_,
                            parameters_[0].value.data_as<const float>(), parameters_[1].value.data_as<const float>(),
                            p_.eps, add_relu_, mean_.data_as<float>(), var_.data_as<float>(), lanes_.data(),
                            be_.threads());
    } else {
      fwd_.bind(DNNL_ARG_SRC, x[0]->data());
      fwd_.bind(DNNL_ARG_DST, y.data());
      fwd_.bind(DNNL_ARG_SCALE, parameters_[0].value.data());
      fwd_.bind(DNNL_ARG_SHIFT, parameters_[1].value.data());
      fwd_.bind(DNNL_ARG_MEAN, training_ ? mean_.data() : buffers_[0].value.data());
      fwd_.bind(DNNL_ARG_VARIANCE, training_ ? var_.data() : buffers_[1].value.data());
      if (workspace_.defined() && training_) fwd_.bind(DNNL_ARG_WORKSPACE, workspace_.data());
      fwd_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
      fwd_.run(be_.stream(), p_.str());
    }
    // A replay (activation checkpointing) ran the same kernel on the same input: the batch
    // statistics and output are the first run's bits, and the running statistics moved then.
    if (!training_ || ctx.replaying) return;
    // PyTorch: running = (1 − m)·running + m·batch, with the unbiased batch variance.
    const double m = p_.momentum;
    const double unbias = count_ > 1 ? static_cast<double>(count_) / static_cast<double>(count_ - 1) : 1.0;
    float* rm = buffers_[0].value.data_as<float>();
    float* rv = buffers_[1].value.data_as<float>();
    const float* bm = mean_.data_as<const float>();
    const float* bv = var_.data_as<const float>();
    for (int64_t c = 0; c < p_.channels; ++c) {
      rm[c] = static_cast<float>((1 - m) * rm[c] + m * bm[c]);
      rv[c] = static_cast<float>((1 - m) * rv[c] + m * bv[c] * unbias);
    }
    ++*buffers_[2].value.data_as<int64_t>();
  }

  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!training_) throw GraphError(p_.str() + ": backward on a layer prepared for eval");
    if (group_) {
      backward_synced(*x[0], dy, dx[0]);
      return;
    }
    if (bf16_loops_) {
      batchnorm_bf16_backward(x[0]->data_as<const uint16_t>(), dy.data_as<const uint16_t>(),
                              dx[0] ? dx[0]->data_as<uint16_t>() : nullptr, bf16_dims_,
                              parameters_[0].value.data_as<const float>(), parameters_[1].value.data_as<const float>(),
                              mean_.data_as<const float>(), var_.data_as<const float>(), p_.eps, p_.fuse_relu,
                              parameters_[0].grad.data_as<float>(), parameters_[1].grad.data_as<float>(),
                              be_.threads());
      return;
    }
    bwd_.bind(DNNL_ARG_SRC, x[0]->data());
    bwd_.bind(DNNL_ARG_DIFF_DST, dy.data());
    bwd_.bind(DNNL_ARG_DIFF_SRC, dx[0] ? dx[0]->data() : dx_scratch_.data());
    bwd_.bind(DNNL_ARG_MEAN, mean_.data());
    bwd_.bind(DNNL_ARG_VARIANCE, var_.data());
    bwd_.bind(DNNL_ARG_SCALE, parameters_[0].value.data());
    bwd_.bind(DNNL_ARG_SHIFT, parameters_[1].value.data());
    bwd_.bind(DNNL_ARG_DIFF_SCALE, parameters_[0].grad.data());
    bwd_.bind(DNNL_ARG_DIFF_SHIFT, parameters_[1].grad.data());
    if (workspace_.defined()) bwd_.bind(DNNL_ARG_WORKSPACE, workspace_.data());
    bwd_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
    bwd_.run(be_.stream(), p_.str());
  }

  bool backward_reads_output() const override { return false; }
  bool can_recompute_output() const override { return training_; }  // the network never asks an absorber
  bool can_replay_forward() const override { return training_; }

  // Training, f32 nChw16c or nChw8c or bf16 (the loops above), no ReLU of its own: computes the residual add
  // (+ReLU) after it.
  bool absorb_in_training(const AbsorbCandidate& next) override {
    const auto* add = dynamic_cast<const ops::AddParams*>(&next.params);
    if (!add || !training_ || !(block_ || bf16_loops_) || p_.fuse_relu || next.others.size() != 1 ||
        !next.others[0].same_as(desc_))
      return false;
    add_ = true;
    add_relu_ = add->fuse_relu;
    return true;
  }

  std::optional<AbsorbedBatchNorm> absorbable_batchnorm() const override {
    return batchnorm_state(parameters_, buffers_, p_.eps, p_.fuse_relu, p_.channels);
  }

  // The training forward's output again: same kernel family, the batch statistics it saved.
  void recompute(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    if (!training_) throw GraphError(p_.str() + ": recompute on a layer prepared for eval");
    if (group_) {  // the synced forward's own normalisation, so the same bits
      normalize(x[0]->data_as<const float>(), nullptr, y.data_as<float>(), layout_, scale_, shift_, p_.fuse_relu);
      return;
    }
    if (bf16_loops_) {
      batchnorm_bf16_recompute(x[0]->data_as<const uint16_t>(), y.data_as<uint16_t>(), bf16_dims_,
                               parameters_[0].value.data_as<const float>(), parameters_[1].value.data_as<const float>(),
                               mean_.data_as<const float>(), var_.data_as<const float>(), p_.eps, p_.fuse_relu,
                               be_.threads());
      return;
    }
    recompute_.bind(DNNL_ARG_SRC, x[0]->data());
    recompute_.bind(DNNL_ARG_DST, y.data());
    recompute_.bind(DNNL_ARG_SCALE, parameters_[0].value.data());
    recompute_.bind(DNNL_ARG_SHIFT, parameters_[1].value.data());
    recompute_.bind(DNNL_ARG_MEAN, mean_.data());
    recompute_.bind(DNNL_ARG_VARIANCE, var_.data());
    recompute_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
    recompute_.run(be_.stream(), p_.str());
  }

 private:
  // oneDNN's forward (training or inference), and in training its backward and the recompute's inference forward.
  void prepare_primitives(const memory::desc& data, const PrepareInfo& info, const std::string& name,
                          const std::string& shapes) {
    auto& eng = be_.engine();
    const memory::desc c_md = plain_md({p_.channels});
    flags f = flags::use_scale | flags::use_shift;
    if (p_.fuse_relu) f |= flags::fuse_norm_relu;
    auto attr = user_scratchpad();
    auto fwd = checked("batch normalization forward", name, shapes, [&] {
      const auto prop = training_ ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
      return dnnl::batch_normalization_forward::primitive_desc(
          dnnl::batch_normalization_forward::desc(prop, data, static_cast<float>(p_.eps),
                                                  training_ ? f : f | flags::use_global_stats),
          attr, eng);
    });
    fwd_ = Op(dnnl::batch_normalization_forward(fwd), "batch normalization forward");
    fwd_.arg(DNNL_ARG_SRC, data, eng);
    fwd_.arg(DNNL_ARG_DST, data, eng);
    fwd_.arg(DNNL_ARG_SCALE, c_md, eng);
    fwd_.arg(DNNL_ARG_SHIFT, c_md, eng);
    fwd_.arg(DNNL_ARG_MEAN, c_md, eng);
    fwd_.arg(DNNL_ARG_VARIANCE, c_md, eng);
    fwd_.arg(DNNL_ARG_SCRATCHPAD, fwd.scratchpad_desc(), eng);
    be_.reserve_scratchpad(fwd.scratchpad_desc().get_size());
    const bool has_ws = p_.fuse_relu && training_;
    if (has_ws) {
      fwd_.arg(DNNL_ARG_WORKSPACE, fwd.workspace_desc(), eng);
      workspace_ = host_allocate(plain_desc({static_cast<int64_t>(fwd.workspace_desc().get_size() + 3) / 4}));
    }
    if (training_) {
      auto re = checked("batch normalization recompute", name, shapes, [&] {
        return dnnl::batch_normalization_forward::primitive_desc(
            dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_inference, data,
                                                    static_cast<float>(p_.eps), f | flags::use_global_stats),
            attr, eng);
      });
      recompute_ = Op(dnnl::batch_normalization_forward(re), "batch normalization recompute");
      for (int a : {DNNL_ARG_SRC, DNNL_ARG_DST}) recompute_.arg(a, data, eng);
      for (int a : {DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE}) recompute_.arg(a, c_md, eng);
      recompute_.arg(DNNL_ARG_SCRATCHPAD, re.scratchpad_desc(), eng);
      be_.reserve_scratchpad(re.scratchpad_desc().get_size());
      auto bwd = checked("batch normalization backward", name, shapes, [&] {
        return dnnl::batch_normalization_backward::primitive_desc(
            dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, data, data,
                                                     static_cast<float>(p_.eps), f),
            attr, eng, fwd);
      });
      bwd_ = Op(dnnl::batch_normalization_backward(bwd), "batch normalization backward");
      for (int a : {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}) bwd_.arg(a, data, eng);
      // oneDNN 2.6 refuses to execute this backward without DNNL_ARG_SHIFT, though it does not
      // read it.
      for (int a : {DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_DIFF_SCALE,
                    DNNL_ARG_DIFF_SHIFT})
        bwd_.arg(a, c_md, eng);
      if (has_ws) bwd_.arg(DNNL_ARG_WORKSPACE, bwd.workspace_desc(), eng);
      bwd_.arg(DNNL_ARG_SCRATCHPAD, bwd.scratchpad_desc(), eng);
      be_.reserve_scratchpad(bwd.scratchpad_desc().get_size());
      // The input gradient is always computed (dγ and dβ come with it); without a consumer it
      // goes to a private buffer.
      if (!info.needs_grad(0)) dx_scratch_ = be_.allocate(desc_);
    }
  }

  // SyncBatchNorm forward (see the top): [Σx, Σx², count] allreduced once, normalise with the
  // global statistics (+ the absorbed add and its ReLU), running statistics of the global batch.
  void forward_synced(std::span<const Tensor* const> x, Tensor& y, Communicator& group, bool replaying) {
    if (!layout_.unsupported.empty())
      throw UsageError("train.sync_bn: true: " + p_.str() + " on oneDNN gets " + layout_.unsupported + " (" +
                       desc_.str() + "), which its synced statistics do not read; use train.sync_bn: false");
    const float* xp = x[0]->data_as<const float>();
    if (!replaying) {  // a replay keeps the first run's global statistics: same bits, no collective
      std::vector<double> sums = local_batch_sums(xp, layout_);
      sync_count_ = ref::global_batch_statistics(group, sums, p_.channels, sync_mean_, sync_var_);
      normalization_coefficients(parameters_[0].value.data_as<const float>(), parameters_[1].value.data_as<const float>(),
                                 sync_mean_, sync_var_, p_.eps, scale_, shift_);
      group_ = &group;
    }
    const bool relu = add_ ? add_relu_ : p_.fuse_relu;
    normalize(xp, add_ ? x[1]->data_as<const float>() : nullptr, y.data_as<float>(), layout_, scale_, shift_, relu);
    if (replaying) return;
    ref::update_running_statistics(buffers_[0].value.data_as<float>(), buffers_[1].value.data_as<float>(), sync_mean_,
                                   sync_var_, sync_count_, p_.momentum);
    ++*buffers_[2].value.data_as<int64_t>();
  }

  // SyncBatchNorm backward: [Σg, Σg·(x − mean)] allreduced once; dx with the global count, dγ and
  // dβ the local sums (plugins/reference/batchnorm_sync.h says why). The fused ReLU's mask is
  // the forward's z > 0, recomputed (backward reads no output).
  void backward_synced(const Tensor& x, const Tensor& dy, Tensor* dx) {
    const float* xp = x.data_as<const float>();
    std::vector<double> sums =
        local_gradient_sums(xp, dy.data_as<const float>(), layout_, sync_mean_, scale_, shift_, p_.fuse_relu);
    std::vector<double> local;
    ref::global_gradient_sums(*group_, sums, local);
    float* dg = parameters_[0].grad.data_as<float>();
    float* db = parameters_[1].grad.data_as<float>();
    for (int64_t c = 0; c < p_.channels; ++c) {
      const auto k = static_cast<size_t>(c);
      db[c] = static_cast<float>(local[k]);
      dg[c] = static_cast<float>(local[static_cast<size_t>(p_.channels) + k] / std::sqrt(sync_var_[k] + p_.eps));
    }
    if (!dx) return;
    const ref::DxCoefficients co = ref::dx_coefficients(sums, parameters_[0].value.data_as<const float>(), sync_var_,
                                                        p_.eps, sync_count_);
    synced_dx(xp, dy.data_as<const float>(), dx->data_as<float>(), layout_, sync_mean_, co.a, co.b, co.k, scale_, shift_,
              p_.fuse_relu);
  }

  ops::BatchNorm2dParams p_;
  OnednnBackend& be_;
  Op fwd_, bwd_, recompute_;
  Tensor mean_, var_, workspace_, dx_scratch_;
  bool training_ = true;
  int64_t count_ = 0;
  TensorDesc desc_;                 // of the input and output
  BlockedDims dims_;
  int64_t block_ = 0;               // 16 or 8: f32 channel blocks batchnorm_add_forward reads; 0: none
  bool bf16_loops_ = false;         // training through batchnorm_bf16_kernel.h
  Bf16Dims bf16_dims_;
  bool add_ = false, add_relu_ = false;  // an absorbed residual add (training) and its ReLU
  std::vector<float> lanes_;        // batchnorm_add_forward's per-lane statistics
  // SyncBatchNorm: the layout its loops read, the last training forward's group (null: local
  // statistics, oneDNN's path), its global statistics and count, and the float coefficients.
  ChannelLayout layout_;
  Communicator* group_ = nullptr;
  std::vector<double> sync_mean_, sync_var_;
  double sync_count_ = 0;
  std::vector<float> scale_;
  std::vector<double> shift_;
};

}  // namespace

std::unique_ptr<Layer> make_batchnorm2d_onednn(const OpParams& p, Backend& b) {
  return std::make_unique<BatchNorm2dOnednn>(dynamic_cast<const ops::BatchNorm2dParams&>(p), b);
}

}  // namespace cxr::dnn
