#include "predict/gallery.h"

#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "io/loader.h"
#include "io/overlay.h"
#include "io/transforms.h"
#include "predict/cam_files.h"
#include "predict/gallery_selection.h"
#include "predict/grad_cam.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

// Runs every batch of `data` through the network in order; `each(batch, logits)` per batch.
template <typename F>
void for_each_batch(CheckpointModel& m, Dataset data, F each) {
  LoaderConfig lc = m.preprocessing;
  lc.shuffle = false;
  lc.drop_last = false;
  Loader loader(std::move(data), lc);
  Network& net = *m.model.network;
  const int64_t b = lc.batch_size, c = m.recipe.model.in_channels, s = m.recipe.data.image_size;
  const int64_t per_image = c * s * s, k = net.graph().num_classes;
  net.prepare({b, c, s, s}, false);
  Context ctx;
  ctx.training = false;
  std::vector<float> padded(static_cast<size_t>(b * per_image)), logits(static_cast<size_t>(b * k));
  HostBatch batch;
  loader.start_epoch(0, 0);
  int64_t first = 0;
  while (loader.next(batch)) {
    std::memcpy(padded.data(), batch.images, sizeof(float) * static_cast<size_t>(batch.n * per_image));
    std::fill(padded.begin() + batch.n * per_image, padded.end(), 0.0f);
    net.backend().write_plain(net.input(), padded.data());
    net.backend().read_plain(net.forward(ctx), logits.data());
    each(first, batch, logits, ctx);
    first += batch.n;
  }
}

// The display image scaled so that it and its legend fit in max_side × max_side.
Image fitted(Image display, int64_t max_side) {
  int64_t side = std::min(display.width, max_side);
  while (side > 16 && side + legend_geometry(side).width > max_side) --side;
  return side == display.width ? display : resize(display, side, side);
}

}  // namespace

void write_gallery(CheckpointModel& m, const Dataset& val, const std::string& run_dir, const GalleryOptions& o) {
  const ScoringRule rule{m.multi_label, m.temperature, m.thresholds};
  const auto k = static_cast<int64_t>(m.classes.size());
  std::vector<ScoredImage> scored;
  std::vector<std::string> paths;
  GradCam cam(*m.model.network);  // the probe is set before the network is prepared
  for_each_batch(m, val, [&](int64_t, const HostBatch& b, const std::vector<float>& logits, Context&) {
    for (int64_t i = 0; i < b.n; ++i) {
      ScoredImage s;
      s.probs = probabilities(logits.data() + i * k, k, rule);
      s.targets.assign(static_cast<size_t>(k), 0.0);
      const float* t = b.targets + (val.multi_label ? i * k : i);
      if (val.multi_label) s.targets.assign(t, t + k);
      else s.targets[static_cast<size_t>(*t)] = 1.0;
      scored.push_back(std::move(s));
      paths.push_back(b.ids[static_cast<size_t>(i)]);
    }
  });
  const std::vector<GalleryPick> picks = select_gallery(scored, rule, o.per_kind);

  const fs::path dir = fs::path(run_dir) / "gallery";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) throw RuntimeFailure("cannot create " + dir.string() + ": " + ec.message());
  std::vector<std::string> images(picks.size());
  if (o.images && !picks.empty()) {
    // Only the chosen images go through Grad-CAM, each with the class it was judged on.
    Dataset chosen{val.root, val.classes, {}, val.multi_label};
    std::map<std::string, size_t> sample_of;
    for (size_t i = 0; i < val.samples.size(); ++i) sample_of.emplace(val.samples[i].relative, i);
    for (const GalleryPick& p : picks) chosen.samples.push_back(val.samples.at(sample_of.at(paths[static_cast<size_t>(p.image)])));
    const int64_t c = m.recipe.model.in_channels, s = m.recipe.data.image_size;
    for_each_batch(m, chosen, [&](int64_t first, const HostBatch& b, const std::vector<float>&, Context& ctx) {
      std::vector<int64_t> classes;
      for (int64_t i = 0; i < b.n; ++i) classes.push_back(picks[static_cast<size_t>(first + i)].cls);
      const std::vector<float> maps = cam.compute(classes, ctx);
      const int64_t hw = cam.height() * cam.width();
      for (int64_t i = 0; i < b.n; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "%02lld.png", static_cast<long long>(first + i));
        const Image display = fitted(display_from_input(b.images + i * c * s * s, c, s), o.max_side);
        write_overlay_png((dir / name).string(), cam_overlay(display, maps.data() + i * hw, cam.height(), cam.width()));
        images[static_cast<size_t>(first + i)] = name;
      }
    });
  }
  nlohmann::json items = nlohmann::json::array();
  for (size_t j = 0; j < picks.size(); ++j)
    items.push_back({{"kind", picks[j].kind},
                     {"class", m.classes[static_cast<size_t>(picks[j].cls)]},
                     {"probability", picks[j].probability},
                     {"path", paths[static_cast<size_t>(picks[j].image)]},
                     {"image", images[j].empty() ? nlohmann::json(nullptr) : nlohmann::json(images[j])}});
  const auto epoch = m.metadata.find("epoch");
  const nlohmann::json j = {{"version", 1},
                            {"source", "validation set, best checkpoint"},
                            {"epoch", epoch == m.metadata.end() ? nlohmann::json(nullptr) : nlohmann::json(std::stoll(epoch->second))},
                            {"checkpoint", "checkpoints/best.safetensors"},
                            {"images", o.images},
                            {"per_kind", o.per_kind},
                            {"classes", m.classes},
                            {"items", items}};
  write_file_atomic((dir / "gallery.json").string(), j.dump(2) + "\n");
}

}  // namespace cxr
