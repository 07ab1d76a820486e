// Datasets, preprocessing and the loader on synthetic files: ImageFolder order, a seeded
// stratified split, PNG 8/16-bit and colour-to-luma, preprocessing at size untouched,
// augmentation that is a function of (seed, epoch, sample) only, a loader whose batches after
// a skip equal the batches of an unbroken epoch, the bad-file policies, and a disk cache whose
// batches equal decoding ones, that is really read, and that misses on damaged entries.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/errors.h"
#include "io/dataset.h"
#include "io/demo_data.h"
#include "io/dicom_writer.h"
#include "io/image_reader.h"
#include "io/loader.h"
#include "io/manifest.h"
#include "io/png_io.h"
#include "io/synthetic_cxr.h"
#include "io/transforms.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

class Data : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("cxr_data_" + std::to_string(getpid()));
    write_demo_data({(root_ / "set").string(), 60, 48, 1});
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static inline fs::path root_;
};

TEST_F(Data, ImageFolderOrderAndCounts) {
  const Dataset d = scan_folder_dataset((root_ / "set/train").string());
  EXPECT_EQ(d.classes, (std::vector<std::string>{"NORMAL", "PNEUMONIA"}));
  ASSERT_EQ(d.samples.size(), 36u);
  for (size_t i = 1; i < d.samples.size(); ++i) {
    const auto& a = d.samples[i - 1];
    const auto& b = d.samples[i];
    EXPECT_TRUE(a.label < b.label || (a.label == b.label && a.path < b.path));
  }
  EXPECT_EQ(d.class_counts(), (std::vector<int64_t>{18, 18}));
  EXPECT_EQ(d.class_weights(), (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(d.samples[0].relative, "NORMAL/NORMAL_0000.dcm");
}

TEST_F(Data, StratifiedSeededSplit) {
  const Dataset d = scan_folder_dataset((root_ / "set/train").string());
  const auto [a, b] = split_dataset(d, 0.25, 7);
  const auto [a2, b2] = split_dataset(d, 0.25, 7);
  EXPECT_EQ(b.class_counts(), (std::vector<int64_t>{5, 5}));  // round(0.25 · 18) per class
  EXPECT_EQ(a.samples.size() + b.samples.size(), d.samples.size());
  std::set<std::string> in_a;
  for (const auto& s : a.samples) in_a.insert(s.path);
  for (const auto& s : b.samples) EXPECT_FALSE(in_a.count(s.path)) << s.path;
  for (size_t i = 0; i < b.samples.size(); ++i) EXPECT_EQ(b.samples[i].path, b2.samples[i].path);
}

TEST_F(Data, EveryDemoFileDecodes) {
  for (const auto& e : fs::recursive_directory_iterator(root_ / "set"))
    if (e.is_regular_file()) {
      const Image img = read_image(e.path().string());
      EXPECT_EQ(img.width, 48);
      EXPECT_GT(*std::max_element(img.pixels.begin(), img.pixels.end()), 0.5f) << e.path();
    }
}

TEST_F(Data, DemoDicomPassesDciodvfy) {
  if (std::system("command -v dciodvfy > /dev/null") != 0) GTEST_SKIP() << "dciodvfy absent (apt-get install dicom3tools)";
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "set/train"))
    if (e.path().extension() == ".dcm" && checked < 6) {
      const fs::path log = root_ / "dciodvfy.log";
      std::system(("dciodvfy " + e.path().string() + " > " + log.string() + " 2>&1").c_str());
      std::ifstream in(log);
      for (std::string line; std::getline(in, line);) EXPECT_NE(line.rfind("Error", 0), 0u) << e.path() << ": " << line;
      ++checked;
    }
  EXPECT_EQ(checked, 6);  // every encoding of the rotation, DX and CR
}

TEST_F(Data, PngBitDepthsRoundTrip) {
  Image img = make_chest_phantom({32, false, 2, 3});
  for (int bits : {8, 16}) {
    const fs::path p = root_ / (bits == 8 ? "p8.png" : "p16.png");
    write_png(p.string(), img, bits);
    const Image back = read_png(p.string());
    double worst = 0;
    for (size_t i = 0; i < img.pixels.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(back.pixels[i] - img.pixels[i])));
    EXPECT_LE(worst, bits == 8 ? 0.5 / 255 + 1e-6 : 0.5 / 65535 + 1e-7) << bits;
  }
}

TEST_F(Data, PreprocessingLeavesAnImageAtSizeUntouchedAndNormalises) {
  const Image img = make_chest_phantom({64, false, 0, 1});
  TransformConfig c;
  c.size = 64;
  c.channels = 3;
  const Image w = working_image(img, c);
  EXPECT_EQ(w.pixels, img.pixels);
  std::vector<float> out(3 * 64 * 64);
  std::mt19937_64 rng(0);
  to_tensor(w, c, rng, out.data());
  EXPECT_NEAR(out[0], (img.pixels[0] - 0.485f) / 0.229f, 1e-6);
  EXPECT_NEAR(out[2 * 64 * 64 + 5], (img.pixels[5] - 0.406f) / 0.225f, 1e-6);
}

TEST_F(Data, AugmentationDependsOnlyOnItsSeed) {
  const Image img = make_chest_phantom({80, true, 0, 1});
  TransformConfig c;
  c.size = 64;
  c.channels = 1;
  c.augment = true;
  const Image w = working_image(img, c);
  std::vector<float> a(64 * 64), b(64 * 64), d(64 * 64);
  std::mt19937_64 r1(42), r2(42), r3(43);
  to_tensor(w, c, r1, a.data());
  to_tensor(w, c, r2, b.data());
  to_tensor(w, c, r3, d.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, d);
}

TEST_F(Data, LoaderSkipResumesTheSameBatches) {
  LoaderConfig c;
  c.batch_size = 8;
  c.transform.size = 32;
  c.transform.augment = true;
  c.seed = 5;
  c.workers = 2;
  Loader full(scan_folder_dataset((root_ / "set/train").string()), c);
  Loader resumed(scan_folder_dataset((root_ / "set/train").string()), c);
  ASSERT_EQ(full.batches_per_epoch(), 4);  // 36 images, drop_last
  full.start_epoch(3, 0);
  resumed.start_epoch(3, 2);
  HostBatch a, b;
  std::vector<std::vector<float>> kept;
  for (int i = 0; full.next(a); ++i)
    if (i >= 2) kept.emplace_back(a.images, a.images + a.n * 3 * 32 * 32);
  size_t k = 0;
  while (resumed.next(b)) {
    ASSERT_LT(k, kept.size());
    EXPECT_EQ(std::vector<float>(b.images, b.images + b.n * 3 * 32 * 32), kept[k++]);
  }
  EXPECT_EQ(k, kept.size());
}

// A PACS export: DICOM files named by UID with no extension, a PNG named .jpg, beside a README, a
// hidden file and a hidden folder. The scan takes every file whose content is an image, whatever
// its name, and says in one line what it left out (the old scan took files by extension: the
// extension-less DICOM was not found and class B had "no images").
TEST_F(Data, FolderScanDecidesByContent) {
  const fs::path dir = root_ / "pacs";
  fs::create_directories(dir / "A");
  fs::create_directories(dir / "B" / ".thumbnails");
  const Image img = make_chest_phantom({32, false, 0, 1});
  write_png((dir / "A" / "0.png").string(), img, 8);
  write_dicom((dir / "B" / "1.2.840.113619.2.55.3.1").string(), img, DicomEncoding{}, "MRN-0001");
  write_png((dir / "B" / "named-like-a.jpg").string(), img, 8);
  write_png((dir / "B" / ".thumbnails" / "t.png").string(), img, 8);
  std::ofstream(dir / "B" / "README") << "exported by the PACS\n";
  std::ofstream(dir / "B" / ".DS_Store") << "x";
  testing::internal::CaptureStderr();
  const Dataset d = scan_folder_dataset(dir.string());
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(d.samples.size(), 3u);
  EXPECT_EQ(d.samples[1].relative, "B/1.2.840.113619.2.55.3.1");
  EXPECT_EQ(d.samples[2].relative, "B/named-like-a.jpg");
  EXPECT_NE(err.find("left out 2 files under " + dir.string() + ": 1 hidden file, 1 not an image"), std::string::npos)
      << err;
  for (const Sample& s : d.samples) EXPECT_NO_THROW(read_image(s.path)) << s.path;
}

TEST_F(Data, BadFilePolicies) {
  const fs::path dir = root_ / "bad";
  fs::create_directories(dir / "A");
  fs::create_directories(dir / "B");
  for (const auto& cls : {"A", "B"})
    for (const char* name : {"0.png", "1.png", "2.png"})
      write_png((dir / cls / name).string(), make_chest_phantom({32, false, 0, 1}), 8);
  std::ofstream(dir / "B" / "3_corrupt.png") << "\x89PNG\r\n\x1a\n garbage";
  LoaderConfig c;
  c.batch_size = 7;
  c.transform.size = 32;
  c.drop_last = false;
  c.shuffle = false;
  Loader fail(scan_folder_dataset(dir.string()), c);
  fail.start_epoch(0, 0);
  HostBatch b;
  try {
    while (fail.next(b)) {
    }
    ADD_FAILURE() << "the corrupt file was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("3_corrupt.png"), std::string::npos) << e.what();
  }
  c.skip_bad_files = true;
  Loader skip(scan_folder_dataset(dir.string()), c);
  EXPECT_EQ(skip.skipped_files(), 1);
  EXPECT_EQ(skip.dataset().samples.size(), 6u);
}


namespace {
std::vector<std::vector<float>> one_epoch(Loader& loader, int64_t epoch) {
  std::vector<std::vector<float>> batches;
  loader.start_epoch(epoch, 0);
  HostBatch b;
  while (loader.next(b)) batches.emplace_back(b.images, b.images + b.n * 3 * 32 * 32);
  return batches;
}
std::vector<fs::path> cache_entries(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  return files;
}
}  // namespace

TEST_F(Data, DiskCacheGivesTheDecodedBatchesAndIsReallyRead) {
  LoaderConfig c;
  c.batch_size = 6;
  c.transform.size = 32;
  c.seed = 2;
  c.workers = 2;
  const std::string data = (root_ / "set/val").string();
  Loader plain(scan_folder_dataset(data), c);
  const auto expected = one_epoch(plain, 1);

  c.disk_cache_dir = (root_ / "disk_cache").string();
  {
    Loader filling(scan_folder_dataset(data), c);  // first run: decodes and fills the cache
    EXPECT_EQ(one_epoch(filling, 1), expected);
  }
  auto entries = cache_entries(c.disk_cache_dir);
  ASSERT_EQ(entries.size(), scan_folder_dataset(data).samples.size());
  for (const auto& e : entries)  // hashed names: no file or patient name in the cache
    EXPECT_EQ(e.filename().string().find("NORMAL"), std::string::npos) << e;

  Loader reading(scan_folder_dataset(data), c);  // a later run: every image from the cache
  EXPECT_EQ(one_epoch(reading, 1), expected);

  // Proof that entries are read: overwrite every entry's pixels with 0.5 and see them arrive.
  for (const auto& e : entries) {
    std::fstream f(e, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const auto bytes = static_cast<int64_t>(f.tellg());
    const int64_t header = 24;
    const std::vector<float> grey(static_cast<size_t>((bytes - header) / 4), 0.5f);
    f.seekp(header);
    f.write(reinterpret_cast<const char*>(grey.data()), static_cast<std::streamsize>(grey.size() * 4));
  }
  // Centre crop of a constant image: every value is (0.5 - mean) / std.
  Loader constant(scan_folder_dataset(data), c);
  const auto grey_batches = one_epoch(constant, 0);
  ASSERT_FALSE(grey_batches.empty());
  EXPECT_NEAR(grey_batches[0][0], (0.5f - 0.485f) / 0.229f, 1e-6);
  EXPECT_NEAR(grey_batches[0][3 * 32 * 32 - 1], (0.5f - 0.406f) / 0.225f, 1e-6);

  // Damaged entries (truncated, garbage) are misses: decoded again and rewritten.
  fs::resize_file(entries[0], 10);
  std::ofstream(entries[1], std::ios::binary | std::ios::trunc) << "not a cache entry at all";
  for (size_t i = 2; i < entries.size(); ++i) fs::remove(entries[i]);
  Loader repaired(scan_folder_dataset(data), c);
  EXPECT_EQ(one_epoch(repaired, 1), expected);
  EXPECT_EQ(cache_entries(c.disk_cache_dir).size(), entries.size());
}
}  // namespace
}  // namespace cxr

namespace cxr {
namespace {

TEST(Manifest, MultiLabelPatientSplitAndErrors) {
  const fs::path dir = fs::temp_directory_path() / ("cxr_manifest_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream csv(dir / "m.csv");
  csv << "path,patient_id,Effusion,Mass\n";
  for (int i = 0; i < 60; ++i) csv << "\"img, " << i << ".png\",P" << i / 3 << "," << (i % 2) << "," << (i % 5 == 0) << "\n";
  csv.close();
  const ManifestSplits a = read_manifest((dir / "m.csv").string(), 0.25, 9);
  const ManifestSplits b = read_manifest((dir / "m.csv").string(), 0.25, 9);
  EXPECT_TRUE(a.train.multi_label);
  EXPECT_EQ(a.train.classes, (std::vector<std::string>{"Effusion", "Mass"}));
  EXPECT_EQ(a.val.samples.size(), 15u);  // 5 of 20 patients, 3 images each
  EXPECT_EQ(a.train.samples.size() + a.val.samples.size(), 60u);
  // "img, <i>.png" belongs to patient i / 3: no patient may appear in both splits.
  auto patient = [](const Sample& s) { return std::stoi(s.relative.substr(5)) / 3; };
  std::set<int> val_patients;
  for (const auto& s : a.val.samples) val_patients.insert(patient(s));
  for (const auto& s : a.train.samples) EXPECT_FALSE(val_patients.count(patient(s))) << s.relative;
  for (size_t i = 0; i < a.val.samples.size(); ++i) EXPECT_EQ(a.val.samples[i].relative, b.val.samples[i].relative);
  EXPECT_EQ(a.train.samples[0].relative.rfind("img, ", 0), 0u);  // the quoted comma survives
  EXPECT_EQ(a.train.samples[0].targets.size(), 2u);

  std::ofstream(dir / "single.csv") << "path,label,split\na.png,PNEUMONIA,train\nb.png,NORMAL,val\nc.png,NORMAL,test\n";
  const ManifestSplits s = read_manifest((dir / "single.csv").string(), 0.1, 0);
  EXPECT_FALSE(s.train.multi_label);
  EXPECT_EQ(s.train.classes, (std::vector<std::string>{"NORMAL", "PNEUMONIA"}));
  EXPECT_EQ(s.train.samples[0].label, 1);
  EXPECT_EQ(s.test.samples.size(), 1u);

  std::ofstream(dir / "bad.csv") << "path,Effusion\na.png,1\nb.png,maybe\n";
  try {
    read_manifest((dir / "bad.csv").string(), 0.1, 0);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cxr
