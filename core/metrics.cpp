#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/errors.h"

namespace cxr {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Also refuses NaN scores: sorting them would break std::sort's ordering contract.
void check_sizes(const std::vector<double>& scores, const std::vector<bool>& positive) {
  if (scores.size() != positive.size())
    throw UsageError("metrics: " + std::to_string(scores.size()) + " scores for " +
                     std::to_string(positive.size()) + " labels");
  for (double s : scores)
    if (std::isnan(s)) throw RuntimeFailure("metrics: a score is NaN");
}

// Indices sorted by score, descending.
std::vector<size_t> by_score_desc(const std::vector<double>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

}  // namespace

double auroc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  check_sizes(scores, positive);
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double pos_rank_sum = 0;
  int64_t n_pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double avg_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1..j averaged
    for (size_t k = i; k < j; ++k)
      if (positive[order[k]]) {
        pos_rank_sum += avg_rank;
        ++n_pos;
      }
    i = j;
  }
  const int64_t n_neg = static_cast<int64_t>(n) - n_pos;
  if (n_pos == 0 || n_neg == 0) return kNaN;
  const double u = pos_rank_sum - static_cast<double>(n_pos) * static_cast<double>(n_pos + 1) / 2.0;
  return u / (static_cast<double>(n_pos) * static_cast<double>(n_neg));
}

RocCurve roc_curve(const std::vector<double>& scores, const std::vector<bool>& positive) {
  check_sizes(scores, positive);
  const auto order = by_score_desc(scores);
  const auto n_pos = static_cast<double>(std::count(positive.begin(), positive.end(), true));
  const double n_neg = static_cast<double>(positive.size()) - n_pos;
  RocCurve roc;
  roc.fpr.push_back(0);
  roc.tpr.push_back(0);
  roc.thresholds.push_back(std::numeric_limits<double>::infinity());
  double tp = 0, fp = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    positive[order[i]] ? ++tp : ++fp;
    // One point per distinct threshold: tied scores move together.
    if (i + 1 < order.size() && scores[order[i + 1]] == scores[order[i]]) continue;
    roc.fpr.push_back(n_neg > 0 ? fp / n_neg : kNaN);
    roc.tpr.push_back(n_pos > 0 ? tp / n_pos : kNaN);
    roc.thresholds.push_back(scores[order[i]]);
  }
  return roc;
}

OperatingPoint operating_point(const std::vector<double>& scores, const std::vector<bool>& positive,
                               double threshold) {
  check_sizes(scores, positive);
  OperatingPoint p;
  p.threshold = threshold;
  for (size_t i = 0; i < scores.size(); ++i) {
    const bool predicted = scores[i] >= threshold;
    if (positive[i]) predicted ? ++p.tp : ++p.fn;
    else predicted ? ++p.fp : ++p.tn;
  }
  p.sensitivity = (p.tp + p.fn) > 0 ? static_cast<double>(p.tp) / static_cast<double>(p.tp + p.fn) : kNaN;
  p.specificity = (p.tn + p.fp) > 0 ? static_cast<double>(p.tn) / static_cast<double>(p.tn + p.fp) : kNaN;
  return p;
}

OperatingPoint youden_point(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const RocCurve roc = roc_curve(scores, positive);
  size_t best = 0;
  double best_j = -std::numeric_limits<double>::infinity();
  for (size_t i = 1; i < roc.thresholds.size(); ++i) {
    const double j = roc.tpr[i] - roc.fpr[i];
    if (j > best_j) {  // strict: ties keep the highest threshold
      best_j = j;
      best = i;
    }
  }
  return operating_point(scores, positive, best == 0 ? 0.5 : roc.thresholds[best]);
}

namespace {

ClassMetrics class_metrics(const std::string& name, const std::vector<double>& scores,
                           const std::vector<bool>& positive) {
  ClassMetrics m;
  m.name = name;
  m.support = std::count(positive.begin(), positive.end(), true);
  m.auroc = auroc(scores, positive);
  m.at_half = operating_point(scores, positive, 0.5);
  m.at_youden = youden_point(scores, positive);
  m.roc = roc_curve(scores, positive);
  return m;
}

double macro(const std::vector<ClassMetrics>& classes) {
  double sum = 0;
  int n = 0;
  for (const ClassMetrics& c : classes)
    if (!std::isnan(c.auroc)) sum += c.auroc, ++n;
  return n ? sum / n : kNaN;
}

}  // namespace

ClassificationMetrics single_label_metrics(const std::vector<double>& probs,
                                           const std::vector<int64_t>& labels,
                                           const std::vector<std::string>& names) {
  const size_t k = names.size(), n = labels.size();
  if (k == 0 || probs.size() != n * k)
    throw UsageError("metrics: probabilities do not match " + std::to_string(n) + " samples x " +
                     std::to_string(k) + " classes");
  ClassificationMetrics out;
  out.count = static_cast<int64_t>(n);
  out.confusion.assign(k, std::vector<int64_t>(k, 0));
  int64_t correct = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto row = probs.begin() + static_cast<std::ptrdiff_t>(i * k);
    const auto pred = static_cast<size_t>(std::max_element(row, row + static_cast<std::ptrdiff_t>(k)) - row);
    const auto truth = static_cast<size_t>(labels[i]);
    if (truth >= k) throw UsageError("metrics: label " + std::to_string(labels[i]) + " out of range");
    out.confusion[truth][pred]++;
    correct += pred == truth;
  }
  out.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : kNaN;
  for (size_t c = 0; c < k; ++c) {
    std::vector<double> scores(n);
    std::vector<bool> positive(n);
    for (size_t i = 0; i < n; ++i) {
      scores[i] = probs[i * k + c];
      positive[i] = static_cast<size_t>(labels[i]) == c;
    }
    out.classes.push_back(class_metrics(names[c], scores, positive));
  }
  // Binary problems: the two one-vs-rest AUROCs are equal; report the positive class's.
  out.macro_auroc = k == 2 ? out.classes[1].auroc : macro(out.classes);
  return out;
}

ClassificationMetrics multi_label_metrics(const std::vector<double>& probs,
                                          const std::vector<double>& targets,
                                          const std::vector<std::string>& names) {
  const size_t k = names.size();
  if (k == 0 || probs.size() != targets.size() || probs.size() % k != 0)
    throw UsageError("metrics: probabilities and targets do not match " + std::to_string(k) + " labels");
  const size_t n = probs.size() / k;
  ClassificationMetrics out;
  out.count = static_cast<int64_t>(n);
  double acc = 0;
  for (size_t c = 0; c < k; ++c) {
    // A target below 0 is an ignored label (io/dataset.h: kIgnoredTarget, CheXpert's U-Ignore):
    // it counts for nothing in this label's metrics, as it adds nothing to the loss.
    std::vector<double> scores;
    std::vector<bool> positive;
    for (size_t i = 0; i < n; ++i) {
      if (targets[i * k + c] < 0) continue;
      scores.push_back(probs[i * k + c]);
      positive.push_back(targets[i * k + c] >= 0.5);
    }
    out.classes.push_back(class_metrics(names[c], scores, positive));
    const auto& p = out.classes.back().at_half;
    acc += scores.empty() ? kNaN : static_cast<double>(p.tp + p.tn) / static_cast<double>(scores.size());
  }
  out.accuracy = acc / static_cast<double>(k);
  out.macro_auroc = macro(out.classes);
  return out;
}

}  // namespace cxr
