// batchnorm2d in plain loops (double math). In training with Context::batch_norm_group of more
// than one rank the statistics are those of all ranks' rows (SyncBatchNorm, batchnorm_sync.h);
// a replay (activation checkpointing) then reuses the global statistics its first run saved,
// with no second allreduce, so every rank replays alike whatever the others do.
#include "engine/ops/batchnorm2d.h"
#include "plugins/reference/batchnorm_sync.h"
#include "plugins/reference/reference_layer.h"
#include "plugins/reference/register.h"

namespace cxr::ref {
namespace {

class BatchNorm2dReference final : public Layer {
 public:
  BatchNorm2dReference(const ops::BatchNorm2dParams& p, Backend& backend) : p_(p) {
    ops::create_batchnorm_state(p, backend, parameters_, buffers_);
  }
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    require_plain(in, p_.str());
    training_ = info.training;
    return plain_desc(p_.output_shape(shapes_of(in)));
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context& ctx) override {
    const auto xv = to_double(*x[0]), g = to_double(parameters_[0].value), b = to_double(parameters_[1].value);
    std::vector<double> yv(xv.size());
    const Dims4 d = dims4(x[0]->shape());
    if (ctx.training && sync_group(ctx.batch_norm_group)) {
      forward_synced(xv, d, *sync_group(ctx.batch_norm_group), ctx.replaying, y);
      return;
    }
    if (ctx.training) {
      group_ = nullptr;
      mean_.assign(static_cast<size_t>(d.c), 0.0);
      var_.assign(static_cast<size_t>(d.c), 0.0);
      batchnorm_forward_train(xv.data(), d, g.data(), b.data(), p_.eps, p_.fuse_relu, yv.data(),
                              mean_.data(), var_.data());
      // PyTorch: running stats move by `momentum` toward the batch mean and the *unbiased* variance
      // (once per batch: a replay recomputes the same batch statistics and output only).
      if (ctx.replaying) {
        store(yv, y);
        return;
      }
      auto rm = to_double(buffers_[0].value), rv = to_double(buffers_[1].value);
      const double m = static_cast<double>(d.n * d.h * d.w);
      for (size_t c = 0; c < rm.size(); ++c) {
        rm[c] = (1 - p_.momentum) * rm[c] + p_.momentum * mean_[c];
        rv[c] = (1 - p_.momentum) * rv[c] + p_.momentum * var_[c] * m / std::max(1.0, m - 1);
      }
      store(rm, buffers_[0].value);
      store(rv, buffers_[1].value);
      ++*buffers_[2].value.data_as<int64_t>();
    } else {
      const auto rm = to_double(buffers_[0].value), rv = to_double(buffers_[1].value);
      batchnorm_forward_eval(xv.data(), d, g.data(), b.data(), rm.data(), rv.data(), p_.eps,
                             p_.fuse_relu, yv.data());
    }
    store(yv, y);
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const auto xv = to_double(*x[0]), g = to_double(parameters_[0].value);
    // The ReLU mask comes from the output recomputed here, so backward never reads y (without
    // ReLU there is no mask and y is not read at all).
    const auto yv = p_.fuse_relu ? output_from_batch_stats(xv, x[0]->shape()) : std::vector<double>{};
    const auto gy = to_double(dy);
    std::vector<double> dxv(xv.size()), dg(g.size()), db(g.size());
    if (group_) {
      backward_synced(xv, x[0]->shape(), yv, gy, dx[0] ? dxv.data() : nullptr, dg, db);
      if (dx[0]) store(dxv, *dx[0]);
      store(dg, parameters_[0].grad);
      store(db, parameters_[1].grad);
      return;
    }
    batchnorm_backward_train(xv.data(), dims4(x[0]->shape()), g.data(), mean_.data(), var_.data(),
                             p_.eps, p_.fuse_relu, yv.data(), gy.data(),
                             dx[0] ? dxv.data() : nullptr, dg.data(), db.data());
    if (dx[0]) store(dxv, *dx[0]);
    store(dg, parameters_[0].grad);
    store(db, parameters_[1].grad);
  }
  bool backward_reads_output() const override { return false; }
  bool can_recompute_output() const override { return training_; }
  bool can_replay_forward() const override { return training_; }
  std::optional<AbsorbedBatchNorm> absorbable_batchnorm() const override {  // for a producer folding it
    return batchnorm_state(parameters_, buffers_, p_.eps, p_.fuse_relu, p_.channels);
  }
  void recompute(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    store(output_from_batch_stats(to_double(*x[0]), x[0]->shape()), y);
  }

 private:
  // SyncBatchNorm forward: global statistics from one allreduce, then the eval formula with them
  // (the same formula recompute() and a replay use, so all three give the same bits).
  void forward_synced(const std::vector<double>& xv, const Dims4& d, Communicator& group, bool replaying, Tensor& y) {
    if (!replaying) {
      std::vector<double> sums = local_batch_sums(xv.data(), d.n, d.c, d.h * d.w);
      count_ = global_batch_statistics(group, sums, d.c, mean_, var_);
      group_ = &group;
    }
    store(output_from_batch_stats(xv, y.shape()), y);
    if (replaying) return;  // the running statistics moved in the first run
    update_running_statistics(buffers_[0].value.data_as<float>(), buffers_[1].value.data_as<float>(), mean_, var_,
                              count_, p_.momentum);
    ++*buffers_[2].value.data_as<int64_t>();
  }

  // SyncBatchNorm backward: one allreduce of [Σg, Σg·(x − mean)], dx with the global count; dγ
  // and dβ the local sums (batchnorm_sync.h says why).
  void backward_synced(const std::vector<double>& xv, const Shape& shape, const std::vector<double>& yv,
                       const std::vector<double>& gy, double* dxv, std::vector<double>& dg, std::vector<double>& db) {
    const Dims4 d = dims4(shape);
    const int64_t hw = d.h * d.w;
    std::vector<double> sums = local_gradient_sums(xv.data(), yv.data(), gy.data(), d.n, d.c, hw, mean_, p_.fuse_relu);
    std::vector<double> local;
    global_gradient_sums(*group_, sums, local);
    for (int64_t c = 0; c < d.c; ++c) {
      const auto k = static_cast<size_t>(c);
      db[k] = local[k];
      dg[k] = local[static_cast<size_t>(d.c) + k] / std::sqrt(var_[k] + p_.eps);
    }
    if (!dxv) return;
    const DxCoefficients co = dx_coefficients(sums, parameters_[0].value.data_as<const float>(), var_, p_.eps, count_);
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t c = 0; c < d.c; ++c) {
        const auto k = static_cast<size_t>(c);
        for (int64_t j = 0; j < hw; ++j) {
          const int64_t idx = (n * d.c + c) * hw + j;
          const double g = masked(gy.data(), yv.data(), p_.fuse_relu, idx);
          dxv[idx] = co.a[k] * g + co.b[k] * (xv[static_cast<size_t>(idx)] - mean_[k]) + co.k[k];
        }
      }
  }

  // The training forward's output from its saved batch statistics (the same formula in double).
  std::vector<double> output_from_batch_stats(const std::vector<double>& xv, const Shape& shape) const {
    const auto g = to_double(parameters_[0].value), b = to_double(parameters_[1].value);
    std::vector<double> yv(xv.size());
    batchnorm_forward_eval(xv.data(), dims4(shape), g.data(), b.data(), mean_.data(), var_.data(), p_.eps,
                           p_.fuse_relu, yv.data());
    return yv;
  }

  bool training_ = true;
  ops::BatchNorm2dParams p_;
  std::vector<double> mean_, var_;
  Communicator* group_ = nullptr;  // the last training forward's SyncBatchNorm group; null: local statistics
  double count_ = 0;               // its global count
};

}  // namespace

std::unique_ptr<Layer> make_batchnorm2d_reference(const OpParams& p, Backend& b) {
  return std::make_unique<BatchNorm2dReference>(dynamic_cast<const ops::BatchNorm2dParams&>(p), b);
}

}  // namespace cxr::ref
