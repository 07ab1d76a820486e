#include "job/data_parallel_ranks.h"

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/errors.h"
#ifdef CXRTUNE_HAVE_NCCL
#include "plugins/nccl/nccl_communicator.h"
#endif

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

std::string pin_local_gpu(const Communicator& world, const std::string& backend_name) {
  if (world.size() == 1 || (backend_name != "cuda" && backend_name != "cudnn" && backend_name != "auto")) return "";
  const int local = world.local_rank();
  const char* given = std::getenv("CUDA_VISIBLE_DEVICES");
  std::string device = std::to_string(local);
  if (given && *given) {
    std::vector<std::string> listed;
    std::string item;
    for (const char* p = given;; ++p) {
      if (*p == ',' || *p == '\0') {
        if (!item.empty()) listed.push_back(item);
        item.clear();
        if (*p == '\0') break;
      } else if (*p != ' ') {
        item += *p;
      }
    }
    if (listed.size() == 1) return "";  // pinned already
    if (static_cast<int>(listed.size()) <= local)
      throw UsageError("CUDA_VISIBLE_DEVICES=" + std::string(given) + " lists " + std::to_string(listed.size()) +
                       " GPUs, but this node runs " + std::to_string(world.local_size()) +
                       " ranks (this one is local rank " + std::to_string(local) +
                       "): start at most one rank per GPU");
    device = listed[static_cast<size_t>(local)];
  }
  setenv("CUDA_VISIBLE_DEVICES", device.c_str(), 1);
  return "rank " + std::to_string(world.rank()) + " (local rank " + std::to_string(local) + ") uses GPU " + device;
}

std::unique_ptr<Communicator> make_gpu_communicator(Communicator& world, const Backend& backend) {
  if (world.size() == 1 || backend.name() != "cudnn") return nullptr;
#ifdef CXRTUNE_HAVE_NCCL
  return make_nccl_communicator(world, 0);  // device 0: this rank's GPU after pin_local_gpu
#else
  return nullptr;
#endif
}

}  // namespace cxr
