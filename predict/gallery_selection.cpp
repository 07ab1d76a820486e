#include "predict/gallery_selection.h"

#include <algorithm>

namespace cxr {

std::vector<GalleryPick> select_gallery(const std::vector<ScoredImage>& images, const ScoringRule& rule, int64_t per_kind) {
  struct Candidate {
    GalleryPick pick;
    double confidence;
  };
  std::vector<Candidate> fp, fn, tp;
  for (size_t i = 0; i < images.size(); ++i) {
    const ScoredImage& s = images[i];
    const auto k = static_cast<int64_t>(s.probs.size());
    const std::vector<int64_t> predicted = predicted_classes(s.probs, rule);
    // Binary single-label: only the positive class; judging class 0 too would show every image twice.
    for (int64_t c = (!rule.multi_label && k == 2) ? 1 : 0; c < k; ++c) {
      const double t = c < static_cast<int64_t>(s.targets.size()) ? s.targets[static_cast<size_t>(c)] : 0.0;
      if (t < 0) continue;
      const bool truth = t >= 0.5;
      const bool said = std::find(predicted.begin(), predicted.end(), c) != predicted.end();
      const double p = s.probs[static_cast<size_t>(c)];
      if (said && !truth) fp.push_back({{"false_positive", static_cast<int64_t>(i), c, p}, p});
      if (!said && truth) fn.push_back({{"false_negative", static_cast<int64_t>(i), c, p}, 1 - p});
      if (said && truth) tp.push_back({{"true_positive", static_cast<int64_t>(i), c, p}, p});
    }
  }
  std::vector<GalleryPick> out;
  for (std::vector<Candidate>* group : {&fp, &fn, &tp}) {
    std::stable_sort(group->begin(), group->end(),
                     [](const Candidate& a, const Candidate& b) { return a.confidence > b.confidence; });
    for (size_t j = 0; j < group->size() && static_cast<int64_t>(j) < per_kind; ++j) out.push_back((*group)[j].pick);
  }
  return out;
}

}  // namespace cxr
