#include "engine/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace cxr {

Optimizer::Optimizer(OptimizerConfig config, ScheduleConfig schedule, std::vector<Parameter*> params,
                     Backend& backend, std::vector<std::string> stages)
    : c_(std::move(config)), schedule_(std::move(schedule)), params_(std::move(params)), backend_(backend),
      stages_(std::move(stages)) {
  if (c_.name != "sgd" && c_.name != "adam" && c_.name != "adamw")
    throw UsageError("optimizer.name: '" + c_.name + "' is not one of sgd, adam, adamw");
  if (!(c_.lr > 0)) throw UsageError("optimizer.lr must be > 0");
  if (!(c_.layer_decay > 0 && c_.layer_decay <= 1)) throw UsageError("optimizer.layer_decay must be in (0, 1]");
  validate(schedule_);
  auto known = [&](const std::string& s) { return std::find(stages_.begin(), stages_.end(), s) != stages_.end(); };
  for (const std::string& s : c_.freeze)
    if (!known(s)) throw UsageError("optimizer.freeze: unknown stage '" + s + "'");
  for (const auto& [s, _] : c_.stage_scale)
    if (!known(s)) throw UsageError("optimizer.stage_lr: unknown stage '" + s + "'");
  for (Parameter* p : params_) {
    p->trainable = std::find(c_.freeze.begin(), c_.freeze.end(), p->stage) == c_.freeze.end();
    if (c_.decay_bn_and_bias) p->weight_decay = true;
    first_.push_back(c_.name == "sgd" && c_.momentum == 0 ? Tensor() : backend_.allocate(p->value.desc()));
    second_.push_back(c_.name == "sgd" ? Tensor() : backend_.allocate(p->value.desc()));
  }
}

std::map<std::string, double> Optimizer::stage_lr(int64_t step) const {
  std::map<std::string, double> lr;
  const double factor = lr_factor(schedule_, step);
  for (size_t i = 0; i < stages_.size(); ++i) {
    const auto distance = static_cast<double>(stages_.size() - 1 - i);
    const auto scale = c_.stage_scale.count(stages_[i]) ? c_.stage_scale.at(stages_[i]) : 1.0;
    const bool frozen = std::find(c_.freeze.begin(), c_.freeze.end(), stages_[i]) != c_.freeze.end();
    lr[stages_[i]] = frozen ? 0.0 : c_.lr * std::pow(c_.layer_decay, distance) * scale * factor;
  }
  return lr;
}

std::map<std::string, double> Optimizer::step(int64_t step) {
  const std::map<std::string, double> lr = stage_lr(step);
  ++steps_done_;
  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = *params_[i];
    if (!p.trainable) continue;
    const double wd = p.weight_decay ? c_.weight_decay : 0.0;
    if (c_.name == "sgd") {
      SgdStep s;
      s.lr = lr.at(p.stage);
      s.momentum = momentum_at(schedule_, step, c_.momentum);
      s.dampening = c_.dampening;
      s.weight_decay = wd;
      s.nesterov = c_.nesterov;
      s.first_step = steps_done_ == 1;
      backend_.sgd_update(s, p.value, p.grad, first_[i]);
    } else {
      AdamStep s;
      s.lr = lr.at(p.stage);
      s.beta1 = momentum_at(schedule_, step, c_.beta1);
      s.beta2 = c_.beta2;
      s.eps = c_.eps;
      s.weight_decay = wd;
      s.decoupled = c_.name == "adamw";
      s.step = steps_done_;
      backend_.adam_update(s, p.value, p.grad, first_[i], second_[i]);
    }
  }
  return lr;
}

std::vector<std::pair<std::string, Tensor*>> Optimizer::state() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (first_[i].defined())
      out.emplace_back(params_[i]->name + (c_.name == "sgd" ? ".momentum_buffer" : ".exp_avg"), &first_[i]);
    if (second_[i].defined()) out.emplace_back(params_[i]->name + ".exp_avg_sq", &second_[i]);
  }
  return out;
}

}  // namespace cxr
