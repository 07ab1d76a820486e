#include "io/demo_data.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "io/dicom_writer.h"
#include "io/png_io.h"
#include "io/synthetic_cxr.h"

namespace cxr {
namespace {

struct Format {
  const char* ext;
  DicomEncoding dicom;
  int png_bits;
};

const std::vector<Format>& formats() {
  static const std::vector<Format> f{
      {".dcm", {"DX", false, 16, "none", 0}, 0},      {".png", {}, 8},
      {".dcm", {"CR", true, 12, "rle", -1024}, 0},    {".dcm", {"DX", false, 12, "jpeg-lossless", 0}, 0},
      {".png", {}, 16},                               {".dcm", {"DX", true, 16, "jpeg-ls", 0}, 0},
  };
  return f;
}

}  // namespace

std::vector<std::string> demo_task_classes(const std::string& task) {
  if (task == "pneumonia") return {"NORMAL", "PNEUMONIA"};
  if (task == "findings") return {"CARDIOMEGALY", "NODULES", "NORMAL"};
  throw UsageError("demo-data: --task " + task + " is not a task (pneumonia | findings)");
}

int64_t write_demo_data(const DemoDataSpec& spec, const std::function<void(int64_t, int64_t)>& progress) {
  const std::vector<std::string> classes = demo_task_classes(spec.task);
  const auto n_classes = static_cast<int64_t>(classes.size());
  if (spec.count < 6 * n_classes)
    throw UsageError("demo-data: --count must be at least " + std::to_string(6 * n_classes) +
                     " for --task " + spec.task + " (an image of each class in every split)");
  if (spec.size < 32 || spec.size > 4096) throw UsageError("demo-data: --size must be in 32..4096");
  namespace fs = std::filesystem;
  const fs::path out(spec.out_dir);
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) throw UsageError("demo-data: " + spec.out_dir + " is not a folder");
  if (fs::is_directory(out, ec) && !fs::is_empty(out, ec)) {
    if (!spec.force)
      throw UsageError("demo-data: " + spec.out_dir + " is not empty; choose a new or empty folder, or add --force to "
                       "replace its train, val and test folders");
    for (const char* split : {"train", "val", "test"}) {
      fs::remove_all(out / split, ec);
      if (ec) throw UsageError("demo-data: cannot remove " + (out / split).string() + ": " + ec.message());
    }
  }
  struct Job {
    std::string path;
    std::string finding;
    uint64_t index;
  };
  std::vector<Job> jobs;
  uint64_t index = 0;
  for (const char* split : {"train", "val", "test"})
    for (int64_t c = 0; c < n_classes; ++c) {
      const std::string& cls = classes[static_cast<size_t>(c)];
      // Per class: the first classes take the remainder; train and val round down, test the rest.
      const int64_t per_class = spec.count / n_classes + (c < spec.count % n_classes ? 1 : 0);
      const int64_t train = per_class * 6 / 10, val = per_class * 2 / 10;
      const std::string s(split);
      const int64_t n = s == "train" ? train : s == "val" ? val : per_class - train - val;
      const fs::path dir = out / split / cls;
      fs::create_directories(dir, ec);
      if (ec) throw UsageError("demo-data: cannot create " + dir.string() + ": " + ec.message());
      for (int64_t i = 0; i < n; ++i, ++index) {
        const Format& f = formats()[index % formats().size()];
        char name[64];
        std::snprintf(name, sizeof name, "%s_%04llu%s", cls.c_str(), static_cast<unsigned long long>(index), f.ext);
        jobs.push_back({(dir / name).string(), cls, index});
      }
    }
  std::atomic<int64_t> next{0}, done{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&] {
    for (int64_t k; (k = next++) < static_cast<int64_t>(jobs.size());) {
      try {
        const Job& j = jobs[static_cast<size_t>(k)];
        const Image img = make_chest_phantom(
            {spec.size, j.finding == "PNEUMONIA", spec.seed, j.index, j.finding == "CARDIOMEGALY", j.finding == "NODULES"});
        const Format& f = formats()[j.index % formats().size()];
        if (f.png_bits) write_png(j.path, img, f.png_bits);
        else write_dicom(j.path, img, f.dicom, "PHANTOM-" + std::to_string(j.index));
        ++done;
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  const unsigned n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned t = 0; t < n; ++t) threads.emplace_back(work);
  // A failed worker stops early; the others drain the queue, so this loop always ends.
  while (done < static_cast<int64_t>(jobs.size()) && next < static_cast<int64_t>(jobs.size()) + n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (progress) progress(done, static_cast<int64_t>(jobs.size()));
    std::lock_guard<std::mutex> lock(failure_mutex);
    if (failure) break;
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  if (progress) progress(done, static_cast<int64_t>(jobs.size()));
  return static_cast<int64_t>(jobs.size());
}

}  // namespace cxr
