#include "engine/train_step.h"

#include "core/errors.h"

namespace cxr {

TrainStep::TrainStep(Network& net, const LayerRegistry& registry, const OpParams& loss)
    : net_(net), loss_(registry.create(loss, net.backend())) {}

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

}  // namespace cxr
