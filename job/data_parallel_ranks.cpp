#include "job/data_parallel_ranks.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cxr {

using nlohmann::json;

void share_resume_state(Communicator& world, TrainPosition& p, Optimizer& optimizer, Backend& backend) {
  if (world.size() == 1) return;
  std::string text;
  if (world.rank() == 0)
    text = json{{"epoch", p.epoch}, {"batch", p.batch}, {"step", p.step}, {"best_auroc", p.best_auroc},
                {"epochs_without_improvement", p.epochs_without_improvement}, {"epoch_loss_sum", p.epoch_loss_sum},
                {"epoch_grad_sum", p.epoch_grad_sum}, {"epoch_grad_last", p.epoch_grad_last},
                {"optimizer_steps", optimizer.steps_done()}}
               .dump();
  broadcast_string(world, text, 0);
  const json j = json::parse(text);
  p.epoch = j["epoch"], p.batch = j["batch"], p.step = j["step"], p.best_auroc = j["best_auroc"];
  p.epochs_without_improvement = j["epochs_without_improvement"], p.epoch_loss_sum = j["epoch_loss_sum"];
  p.epoch_grad_sum = j["epoch_grad_sum"].get<std::map<std::string, double>>();
  p.epoch_grad_last = j["epoch_grad_last"].get<std::map<std::string, double>>();
  optimizer.set_steps_done(j["optimizer_steps"].get<int64_t>());
  std::vector<float> host;
  for (const auto& [name, t] : optimizer.state()) {
    host.resize(static_cast<size_t>(t->numel()));
    backend.read_plain(*t, host.data());
    world.broadcast(host.data(), static_cast<int64_t>(host.size() * sizeof(float)), 0);
    backend.write_plain(*t, host.data());
  }
}

}  // namespace cxr
