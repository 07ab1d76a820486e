#include "engine/gradient_reducer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <stdexcept>

namespace cxr {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

GradientReducer::GradientReducer(Network& net, Communicator& comm, int64_t bucket_bytes) : net_(net), comm_(comm) {
  std::map<const Parameter*, size_t> index;
  for (Parameter* p : net.parameters())
    if (p->trainable && p->grad.defined()) {
      index[p] = params_.size();
      params_.push_back(p);
    }
  // Reverse parameter order is the order backward completes them: lay the buffer out that way,
  // so a bucket is one contiguous range that fills up early.
  offset_.resize(params_.size());
  bucket_of_.resize(params_.size());
  int64_t at = 0;
  const int64_t bucket_floats = std::max<int64_t>(1, bucket_bytes / static_cast<int64_t>(sizeof(float)));
  for (size_t k = params_.size(); k-- > 0;) {
    if (buckets_.empty() || buckets_.back().end - buckets_.back().begin >= bucket_floats)
      buckets_.push_back({at, at, 0});
    offset_[k] = at;
    at += params_[k]->grad.numel();
    buckets_.back().end = at;
    bucket_of_[k] = buckets_.size() - 1;
  }
  flat_.assign(static_cast<size_t>(at), 0.0f);
  taken_.assign(params_.size(), false);
  const Graph& graph = net.graph();
  by_node_.resize(graph.nodes.size());
  for (size_t node = 0; node < graph.nodes.size(); ++node) {
    Layer* layer = net.layer(graph.nodes[node].name);
    if (!layer) continue;
    for (Parameter& p : layer->parameters()) {
      auto it = index.find(&p);
      if (it != index.end()) by_node_[node].push_back(it->second);
    }
  }
  if (comm_.size() > 1) thread_ = std::thread([this] { comm_loop(); });
}

GradientReducer::~GradientReducer() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void GradientReducer::begin_micro_batch(int64_t index, int64_t count) {
  micro_ = index;
  micro_count_ = count;
  std::fill(taken_.begin(), taken_.end(), false);
  if (index == 0) {
    for (Bucket& b : buckets_) b.pending = 0;
    for (size_t k = 0; k < params_.size(); ++k) buckets_[bucket_of_[k]].pending++;
  }
}

void GradientReducer::take(size_t k) {
  Parameter& p = *params_[k];
  const auto n = static_cast<size_t>(p.grad.numel());
  const float* src;
  if (p.grad.device() == Device::Cpu) {
    src = p.grad.data_as<const float>();
  } else {
    staging_.resize(n);
    net_.backend().synchronize();
    net_.backend().read_plain(p.grad, staging_.data());
    src = staging_.data();
  }
  float* dst = flat_.data() + offset_[k];
  if (micro_ == 0)
    std::memcpy(dst, src, n * sizeof(float));
  else
    for (size_t i = 0; i < n; ++i) dst[i] += src[i];
  taken_[k] = true;
  if (micro_ == micro_count_ - 1 && --buckets_[bucket_of_[k]].pending == 0) launch(bucket_of_[k]);
}

void GradientReducer::gradients_ready(size_t node) {
  if (node >= by_node_.size()) return;
  for (size_t k : by_node_[node]) {
    if (taken_[k])
      throw std::logic_error("GradientReducer: the gradient of " + params_[k]->name + " was reported twice in one backward");
    take(k);
  }
}

void GradientReducer::launch(size_t bucket) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(bucket);
    ++queued_;
  }
  cv_.notify_all();
}

void GradientReducer::comm_loop() {
  for (;;) {
    size_t bucket;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || completed_ < queue_.size(); });
      if (stopping_) return;
      bucket = queue_[completed_];
    }
    const auto t0 = Clock::now();
    try {
      if (!error_) {
        const Bucket& b = buckets_[bucket];
        comm_.allreduce_sum(flat_.data() + b.begin, b.end - b.begin);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      comm_acc_s_ += seconds_since(t0);
      ++completed_;
    }
    cv_.notify_all();
  }
}

void GradientReducer::end_micro_batch() {
  // Whatever no node reported (none in a network whose every parameterised node runs backward).
  for (size_t k = 0; k < params_.size(); ++k)
    if (!taken_[k]) take(k);
}

void GradientReducer::finish(double scale) {
  const auto t0 = Clock::now();
  if (thread_.joinable()) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return completed_ == queue_.size(); });
    queue_.clear();
    queued_ = completed_ = 0;
    comm_s_ = comm_acc_s_;
    comm_acc_s_ = 0;
    if (error_) std::rethrow_exception(error_);
  }
  wait_s_ = seconds_since(t0);
  const auto factor = static_cast<float>(scale);
  for (size_t k = 0; k < params_.size(); ++k) {
    Parameter& p = *params_[k];
    const auto n = static_cast<size_t>(p.grad.numel());
    const float* src = flat_.data() + offset_[k];
    float* dst;
    if (p.grad.device() == Device::Cpu) {
      dst = p.grad.data_as<float>();
    } else {
      staging_.resize(n);
      dst = staging_.data();
    }
    if (factor == 1.0f)
      std::memcpy(dst, src, n * sizeof(float));
    else
      for (size_t i = 0; i < n; ++i) dst[i] = src[i] * factor;
    if (p.grad.device() != Device::Cpu) net_.backend().write_plain(p.grad, staging_.data());
  }
}

}  // namespace cxr
