#include "predict_fixtures.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "core/errors.h"
#include "engine/init.h"
#include "engine/resnet.h"
#include "io/csv.h"
#include "io/png_io.h"
#include "io/weights/apply.h"
#include "io/weights/checkpoint.h"
#include "plugins/backends.h"
#include "recipes/recipe_parser.h"

namespace cxr::test {

fs::path fresh_dir(const std::string& tag) {
  const fs::path d = fs::temp_directory_path() / ("cxr_predict_" + tag + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_test_png(const fs::path& path, int64_t size, uint64_t seed) {
  std::mt19937_64 rng(seed * 7919 + 13);
  std::uniform_real_distribution<double> u(0, 1);
  struct Blob {
    double x, y, r, a;
  };
  std::vector<Blob> blobs;
  for (int i = 0; i < 5; ++i) blobs.push_back({u(rng) * size, u(rng) * size, (0.1 + 0.3 * u(rng)) * size, u(rng) - 0.3});
  Image img;
  img.width = img.height = size;
  for (int64_t y = 0; y < size; ++y)
    for (int64_t x = 0; x < size; ++x) {
      double v = 0.3 + 0.1 * u(rng);
      for (const Blob& b : blobs) v += b.a * std::exp(-((x - b.x) * (x - b.x) + (y - b.y) * (y - b.y)) / (b.r * b.r));
      img.pixels.push_back(static_cast<float>(std::clamp(v, 0.0, 1.0)));
    }
  fs::create_directories(path.parent_path());
  write_png(path.string(), img, 8);
}

void write_test_checkpoint(const fs::path& path, const CheckpointSpec& s) {
  Recipe r;
  r.model.arch = s.arch;
  r.model.num_classes = static_cast<int64_t>(s.classes.size());
  r.data.image_size = s.image_size;
  r.loss.name = s.loss;
  r.train.batch_size = s.batch;
  r.train.backend = "cpu";
  r.train.threads = 2;
  LayerRegistry registry;
  register_all_layers(registry);
  auto backend = make_backend("reference", 1);
  ResNetConfig rc;
  rc.arch = s.arch;
  rc.num_classes = r.model.num_classes;
  Network net(build_resnet(rc), registry, *backend);
  init_torchvision(net, s.seed);
  // Spread the BN state (fresh init has γ 1, β 0, mean 0, var 1), so that eval differs from a
  // plain chain of convolutions and a mix-up of the four tensors shows.
  std::mt19937_64 rng(s.seed);
  std::uniform_real_distribution<float> u(0, 1);
  for (const StateEntry& e : net.state()) {
    if (e.name.find("bn") == std::string::npos && e.name.find("downsample.1") == std::string::npos) continue;
    const bool weight = e.name.ends_with(".weight"), bias = e.name.ends_with(".bias");
    const bool mean = e.name.ends_with("running_mean"), var = e.name.ends_with("running_var");
    if (!weight && !bias && !mean && !var) continue;
    std::vector<float> v(static_cast<size_t>(e.value->numel()));
    for (float& x : v) x = weight ? 0.8f + 0.4f * u(rng) : var ? 0.8f + 0.4f * u(rng) : -0.1f + 0.2f * u(rng);
    backend->write_plain(*e.value, v.data());
  }
  Checkpoint c;
  c.model = network_state_dict(net);
  c.metadata = {{"arch", s.arch}, {"recipe", recipe_to_yaml(r)}, {"classes", nlohmann::json(s.classes).dump()},
                {"step", "0"}, {"epoch", "0"}};
  for (const auto& [k, v] : s.extra_metadata) c.metadata[k] = v;
  save_checkpoint(path.string(), c);
}

CliResult run_cxrtune(const std::string& args) {
  const fs::path log = fs::temp_directory_path() / ("cxr_predict_cli_" + std::to_string(getpid()) + ".log");
  const std::string bin = std::string(CXRTUNE_BINARY_DIR) + "/cli/cxrtune";
  const int status = std::system((bin + " " + args + " > " + log.string() + " 2>&1").c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

std::vector<std::vector<std::string>> read_csv_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot open " + path.string());
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> fields;
  int64_t line = 1;
  while (read_csv_record(in, fields, line)) out.push_back(fields);
  return out;
}

std::vector<float> read_npy_f32(const fs::path& path, std::vector<int64_t>* shape) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw UsageError(path.string() + ": not .npy");
  const size_t header = static_cast<unsigned char>(bytes[8]) | static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8;
  const std::string dict = bytes.substr(10, header);
  if (dict.find("'descr': '<f4'") == std::string::npos) throw UsageError(path.string() + ": not <f4");
  if (shape) {
    shape->clear();
    const size_t open = dict.find("'shape': (") + 10, close = dict.find(')', open);
    std::stringstream dims(dict.substr(open, close - open));
    for (std::string d; std::getline(dims, d, ',');)
      if (d.find_first_not_of(' ') != std::string::npos) shape->push_back(std::stoll(d));
  }
  const size_t at = 10 + header;
  std::vector<float> v((bytes.size() - at) / 4);
  std::memcpy(v.data(), bytes.data() + at, v.size() * 4);
  return v;
}

bool have_torch() {
  return std::system((std::string(CXRTUNE_PYTHON) + " -c 'import torch, torchvision, numpy, PIL' > /dev/null 2>&1").c_str()) == 0;
}

}  // namespace cxr::test
