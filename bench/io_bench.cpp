// Decode + preprocess throughput: each FILE is read (read_image: DICOM, PNG or JPEG to the
// display image, with the working size as the decode hint, as the loader does: a JPEG is
// DCT-scaled; `--full` decodes at full size instead), reduced to the working image and written as
// a normalised 3 × SIZE × SIZE tensor, `--repeat` times on one thread after one warm-up. Prints
// one JSON line per file: {"file":..,"transfer_syntax":..,"width":..,"height":..,"decoded":..,
// "images_per_s":..,"ms_per_image":..} (median of the repeats; width × height as stored,
// "decoded" the size read_image returned). Built and run by bench/io_bench.sh beside
// bench/io_bench.py.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "io/image_reader.h"
#include "io/transforms.h"

int main(int argc, char** argv) {
  int repeat = 10;
  int64_t size = 224;
  bool full = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--size") && i + 1 < argc) size = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--full")) full = true;
    else files.emplace_back(argv[i]);
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: io_bench [--repeat N] [--size S] [--full] FILE...\n");
    return 2;
  }
  cxr::TransformConfig config;
  config.size = size;
  std::vector<float> out(static_cast<size_t>(3 * size * size));
  std::mt19937_64 rng(0);
  const cxr::DecodeHints hints = full ? cxr::DecodeHints{} : cxr::decode_hints(config);
  try {
    for (const std::string& file : files) {
      std::vector<double> ms;
      std::string syntax;
      int64_t w = 0, h = 0;
      std::string decoded;
      for (int r = 0; r <= repeat; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        const cxr::Image img = cxr::read_image(file, {}, hints);
        cxr::to_tensor(cxr::working_image(img, config), config, rng, out.data());
        const auto t1 = std::chrono::steady_clock::now();
        if (r > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        syntax = img.facts.transfer_syntax.empty() ? img.facts.format : img.facts.transfer_syntax;
        decoded = std::to_string(img.width) + "x" + std::to_string(img.height);
        if (r == 0) {
          const cxr::Image stored = cxr::read_image(file);
          w = stored.width, h = stored.height;
        }
      }
      std::sort(ms.begin(), ms.end());
      const double median = ms[ms.size() / 2];
      std::printf("{\"file\":\"%s\",\"transfer_syntax\":\"%s\",\"width\":%lld,\"height\":%lld,\"decoded\":\"%s\","
                  "\"images_per_s\":%.2f,"
                  "\"ms_per_image\":%.1f}\n",
                  file.c_str(), syntax.c_str(), static_cast<long long>(w), static_cast<long long>(h), decoded.c_str(), 1000.0 / median,
                  median);
    }
  } catch (const cxr::Error& e) {
    std::fprintf(stderr, "io_bench: %s\n", e.what());
    return e.exit_code();
  }
  return 0;
}
