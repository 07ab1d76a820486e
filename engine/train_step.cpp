#include "engine/train_step.h"

#include <stdexcept>

#include "core/errors.h"

namespace cxr {

TrainStep::TrainStep(Network& net, const LayerRegistry& registry, const OpParams& loss)
    : net_(net), registry_(registry), loss_params_(loss.clone()), loss_(registry.create(loss, net.backend())) {}

void TrainStep::prepare(const Shape& input_shape, const Shape& target_shape, bool training) {
  net_.prepare(input_shape, training);
  Backend& backend = net_.backend();
  const Shape logits_shape{input_shape.at(0), net_.graph().num_classes};
  const TensorDesc logits_desc = plain_desc(logits_shape);
  const TensorDesc target_desc = plain_desc(target_shape);
  const TensorDesc ins[2] = {logits_desc, target_desc};
  PrepareInfo info;
  info.training = training;
  info.needs_input_grad = {training, false};
  const TensorDesc out = loss_->prepare(ins, info);
  if (!targets_.defined() || !targets_.desc().same_as(target_desc))
    targets_ = backend.allocate(target_desc);
  loss_value_ = backend.allocate(out);
  dloss_ = backend.allocate(out);
  const float one = 1.0f;
  backend.write_plain(dloss_, &one);
  dlogits_ = backend.allocate(logits_desc);
  training_ = training;
}

double TrainStep::run(Context& ctx) {
  const Tensor& logits = net_.forward(ctx);
  if (!logits.desc().same_as(dlogits_.desc()))
    throw GraphError("network output " + logits.desc().str() + " is not plain [N, classes]");
  logits_ = &logits;
  const Tensor* ins[2] = {&logits, &targets_};
  loss_->forward(ins, loss_value_, ctx);
  if (ctx.training) {
    if (!training_) throw GraphError("TrainStep::run: training step on an eval-prepared network");
    Tensor* dx[2] = {&dlogits_, nullptr};
    loss_->backward(ins, loss_value_, dloss_, dx, ctx);
    net_.backward(dlogits_, ctx);
  }
  float loss = 0.0f;
  net_.backend().read_plain(loss_value_, &loss);
  return loss;
}

double TrainStep::loss_of(const std::vector<float>& logits, const std::vector<float>& targets, int64_t n) {
  const int64_t k = net_.graph().num_classes;
  if (n < 1 || static_cast<int64_t>(logits.size()) != n * k ||
      (static_cast<int64_t>(targets.size()) != n && static_cast<int64_t>(targets.size()) != n * k))
    throw std::logic_error("TrainStep::loss_of: " + std::to_string(logits.size()) + " logits and " +
                           std::to_string(targets.size()) + " targets for " + std::to_string(n) + " rows");
  Backend& backend = net_.backend();
  // A per-class target (BCE) has K values per row, a class index (cross-entropy) one.
  const bool per_class = targets_.defined() ? targets_.shape().size() == 2 : static_cast<int64_t>(targets.size()) == n * k;
  const Shape target_shape = per_class ? Shape{n, k} : Shape{n};
  if (static_cast<int64_t>(targets.size()) != numel(target_shape))
    throw std::logic_error("TrainStep::loss_of: " + std::to_string(targets.size()) + " targets for shape " +
                           to_string(target_shape));
  if (!set_loss_ || set_rows_ != n || set_targets_.shape() != target_shape) {
    set_loss_ = registry_.create(*loss_params_, backend);
    const TensorDesc ins[2] = {plain_desc({n, k}), plain_desc(target_shape)};
    PrepareInfo info;
    info.training = false;
    info.needs_input_grad = {false, false};
    set_value_ = backend.allocate(set_loss_->prepare(ins, info));
    set_logits_ = backend.allocate(ins[0]);
    set_targets_ = backend.allocate(ins[1]);
    set_rows_ = n;
  }
  backend.write_plain(set_logits_, logits.data());
  backend.write_plain(set_targets_, targets.data());
  Context ctx;
  ctx.training = false;
  const Tensor* ins[2] = {&set_logits_, &set_targets_};
  set_loss_->forward(ins, set_value_, ctx);
  float loss = 0.0f;
  backend.read_plain(set_value_, &loss);
  return loss;
}

}  // namespace cxr
