#include "io/loader.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>

#include "core/errors.h"
#include "io/image_reader.h"

namespace cxr {

Loader::Loader(Dataset dataset, LoaderConfig config) : dataset_(std::move(dataset)), c_(std::move(config)) {
  if (c_.batch_size < 1) throw UsageError("loader: batch size must be >= 1");
  if (c_.ranks < 1 || c_.rank < 0 || c_.rank >= c_.ranks)
    throw std::logic_error("loader: rank " + std::to_string(c_.rank) + " of " + std::to_string(c_.ranks));
  c_.workers = std::max(1, c_.workers);
  c_.prefetch = std::max(1, c_.prefetch);
  if (!c_.disk_cache_dir.empty()) disk_cache_ = std::make_unique<DiskCache>(c_.disk_cache_dir, working_size(c_.transform));
  if (c_.skip_bad_files) {
    // Decode everything once: unreadable files are named once and dropped before batching.
    std::vector<Sample> good;
    for (size_t i = 0; i < dataset_.samples.size(); ++i) {
      try {
        const std::string& path = dataset_.samples[i].path;
        // A disk-cached image was readable when it was cached (and the file is unchanged).
        std::optional<Image> img = disk_cache_ ? disk_cache_->get(path) : std::nullopt;
        if (!img) {
          img = working_image(read_image(path, c_.limits, decode_hints(c_.transform)), c_.transform);
          if (disk_cache_) disk_cache_->put(path, *img);
        }
        if (c_.cache) cache_[good.size()] = std::make_shared<const Image>(std::move(*img));
        good.push_back(dataset_.samples[i]);
      } catch (const UsageError& e) {
        std::fprintf(stderr, "cxrtune: skipping %s\n", e.what());
        ++skipped_;
      }
    }
    dataset_.samples = std::move(good);
  }
  if (dataset_.samples.empty()) throw UsageError("data: no usable images under " + dataset_.root);
  const int64_t per_image = c_.transform.channels * c_.transform.size * c_.transform.size;
  slots_.resize(static_cast<size_t>(c_.prefetch + 1));
  const int64_t slice = (c_.batch_size + c_.ranks - 1) / c_.ranks;  // the largest rank's share
  for (Slot& s : slots_) {
    s.images = host_tensor({slice * per_image});
    s.targets = host_tensor({slice * (dataset_.multi_label ? static_cast<int64_t>(dataset_.classes.size()) : 1)});
  }
}

Loader::~Loader() { stop_workers(); }

int64_t Loader::batches_per_epoch() const {
  const auto n = static_cast<int64_t>(dataset_.samples.size());
  return c_.drop_last ? n / c_.batch_size : (n + c_.batch_size - 1) / c_.batch_size;
}

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  stopping_ = false;
}

void Loader::start_epoch(int64_t epoch, int64_t skip) {
  stop_workers();
  epoch_ = epoch;
  order_.resize(dataset_.samples.size());
  std::iota(order_.begin(), order_.end(), 0);
  if (c_.shuffle) {
    std::mt19937_64 rng(c_.seed * 1000003ull + static_cast<uint64_t>(epoch) * 7919ull + 1);
    std::shuffle(order_.begin(), order_.end(), rng);
  }
  next_batch_ = consumed_ = std::min(skip, batches_per_epoch());
  end_batch_ = batches_per_epoch();
  current_slot_ = -1;
  error_ = nullptr;
  for (Slot& s : slots_) s.ready = false, s.batch = -1;
  for (int w = 0; w < c_.workers; ++w) threads_.emplace_back([this] { work(); });
}

Image Loader::load(size_t sample) {
  if (c_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(sample);
    if (it != cache_.end()) return *it->second;
  }
  const std::string& path = dataset_.samples[sample].path;
  std::optional<Image> cached = disk_cache_ ? disk_cache_->get(path) : std::nullopt;
  if (cached) return std::move(*cached);
  Image img = working_image(read_image(path, c_.limits, decode_hints(c_.transform)), c_.transform);
  if (disk_cache_) disk_cache_->put(path, img);
  if (c_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    cache_[sample] = std::make_shared<const Image>(img);
  }
  return img;
}

std::pair<int64_t, int64_t> Loader::rows_of(int64_t batch) const {
  const int64_t begin = batch * c_.batch_size;
  const int64_t n = std::min<int64_t>(begin + c_.batch_size, static_cast<int64_t>(order_.size())) - begin;
  return {begin + c_.rank * n / c_.ranks, begin + (c_.rank + 1) * n / c_.ranks};
}

void Loader::fill(Slot& slot, int64_t batch) {
  const int64_t per_image = c_.transform.channels * c_.transform.size * c_.transform.size;
  const auto [begin, end] = rows_of(batch);
  for (int64_t i = begin; i < end; ++i) {
    const size_t sample = order_[static_cast<size_t>(i)];
    const Image img = load(sample);
    // Augmentation randomness depends on (seed, epoch, sample) only: reproducible on resume.
    std::mt19937_64 rng(c_.seed * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(epoch_) << 32) ^ sample);
    to_tensor(img, c_.transform, rng, slot.images.data_as<float>() + (i - begin) * per_image);
    const Sample& s = dataset_.samples[sample];
    if (dataset_.multi_label)
      std::copy(s.targets.begin(), s.targets.end(), slot.targets.data_as<float>() + (i - begin) * static_cast<int64_t>(s.targets.size()));
    else
      slot.targets.data_as<float>()[i - begin] = static_cast<float>(s.label);
  }
  slot.n = end - begin;
}

void Loader::work() {
  for (;;) {
    Slot* slot = nullptr;
    int64_t batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Take the next batch once a free slot exists (bounded prefetch).
      cv_.wait(lock, [&] {
        if (stopping_ || next_batch_ >= end_batch_ || error_) return true;
        for (Slot& s : slots_)
          if (s.batch < 0) return true;
        return false;
      });
      if (stopping_ || next_batch_ >= end_batch_ || error_) return;
      for (Slot& s : slots_)
        if (s.batch < 0) {
          slot = &s;
          break;
        }
      batch = next_batch_++;
      slot->batch = batch;
      slot->ready = false;
    }
    try {
      fill(*slot, batch);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      slot->ready = true;
    }
    cv_.notify_all();
  }
}

bool Loader::next(HostBatch& out) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  if (current_slot_ >= 0) {  // the caller is done with the previous batch
    slots_[static_cast<size_t>(current_slot_)].batch = -1;
    current_slot_ = -1;
    cv_.notify_all();
  }
  if (consumed_ >= end_batch_) return false;
  Slot* found = nullptr;
  cv_.wait(lock, [&] {
    if (error_) return true;
    for (Slot& s : slots_)
      if (s.batch == consumed_ && s.ready) found = &s;
    return found != nullptr;
  });
  if (error_) std::rethrow_exception(error_);
  current_slot_ = found - slots_.data();
  ++consumed_;
  out.images = found->images.data_as<const float>();
  out.targets = found->targets.data_as<const float>();
  out.n = found->n;
  out.ids.clear();
  const int64_t begin = rows_of(found->batch).first;
  for (int64_t i = 0; i < found->n; ++i) out.ids.push_back(dataset_.samples[order_[static_cast<size_t>(begin + i)]].relative);
  out.wait_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return true;
}

}  // namespace cxr
