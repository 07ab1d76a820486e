// The data a user points cxrtune at, read the way they hand it over: class folders with a
// symbolic-link loop (a clear UsageError, not ELOOP), manifests saved by spreadsheets (a UTF-8
// byte-order mark), manifests whose `split: test` rows must become the test split, CSV fields
// that hold quotes and commas, and demo data that writes exactly the count it is asked for and
// never mixes with old files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "io/csv.h"
#include "io/data_splits.h"
#include "io/dataset.h"
#include "io/demo_data.h"
#include "io/manifest.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

class DataInputs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cxr_data_inputs_" + std::to_string(getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  // The start of a PNG under an image name: scanning sniffs the first bytes and never decodes.
  void touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    // A PNG signature: the folder scan takes files by content, and reads no further.
    std::ofstream(p, std::ios::binary) << "\x89PNG\r\n\x1a\n";
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / name, std::ios::binary) << text;
    return (root_ / name).string();
  }
  fs::path root_;
};

TEST_F(DataInputs, SymlinkLoopInAClassFolderIsAUsageErrorNamingTheLink) {
  touch(root_ / "set/A/a.png");
  touch(root_ / "set/B/b.png");
  fs::create_directory_symlink("..", root_ / "set/A/loop");
  try {
    scan_folder_dataset((root_ / "set").string());
    FAIL() << "no error";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("loop"), std::string::npos) << what;
    EXPECT_NE(what.find((root_ / "set/A/loop").string()), std::string::npos) << what;
  }
}

TEST_F(DataInputs, SymlinkToAnotherFolderIsFollowed) {
  touch(root_ / "set/A/a.png");
  touch(root_ / "set/B/b.png");
  touch(root_ / "more/c.dcm");
  fs::create_directory_symlink(root_ / "more", root_ / "set/A/more");
  const Dataset d = scan_folder_dataset((root_ / "set").string());
  ASSERT_EQ(d.samples.size(), 3u);
  EXPECT_EQ(d.samples[1].relative, "A/more/c.dcm");  // relative to the root, not resolved outside it
}

TEST_F(DataInputs, ManifestWithAUtf8ByteOrderMarkReads) {
  const std::string csv = write("m.csv", "\xEF\xBB\xBFpath,label\r\na.png,x\r\nb.png,y\r\n");
  const ManifestSplits m = read_manifest(csv, 0.0, 0);
  EXPECT_EQ(m.train.classes, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(m.train.samples.size(), 2u);
}

TEST_F(DataInputs, ManifestTestRowsBecomeTheTestSplit) {
  const std::string csv = write("m.csv",
                                "path,label,split\n"
                                "a.png,x,train\nb.png,y,train\nc.png,x,val\nd.png,y,val\ne.png,x,test\nf.png,y,test\n");
  const DataSplits s = resolve_data_splits({csv, std::nullopt, std::nullopt, 0.0, 0});
  EXPECT_EQ(s.train.samples.size(), 2u);
  EXPECT_EQ(s.val.samples.size(), 2u);
  ASSERT_TRUE(s.test.has_value());
  ASSERT_EQ(s.test->samples.size(), 2u);
  EXPECT_EQ(s.test->samples[0].relative, "e.png");
  EXPECT_EQ(s.test->classes, s.train.classes);
  EXPECT_EQ(read_test_data(csv).samples.size(), 2u);  // what eval --data reads
  // A second test set beside the manifest's own would be ambiguous.
  EXPECT_THROW(resolve_data_splits({csv, std::nullopt, (root_ / "test").string(), 0.0, 0}), UsageError);
  // No split column: nothing to evaluate.
  EXPECT_THROW(read_test_data(write("n.csv", "path,label\na.png,x\n")), UsageError);
}

TEST_F(DataInputs, FolderTestSplitMustHaveTheTrainClasses) {
  for (const char* p : {"tr/A/1.png", "tr/B/2.png", "va/A/3.png", "va/B/4.png", "te/A/5.png", "te/C/6.png"}) touch(root_ / p);
  const std::string tr = (root_ / "tr").string(), va = (root_ / "va").string(), te = (root_ / "te").string();
  EXPECT_FALSE(resolve_data_splits({tr, va, std::nullopt, 0.0, 0}).test.has_value());
  EXPECT_THROW(resolve_data_splits({tr, va, te, 0.0, 0}), UsageError);
  fs::rename(root_ / "te/C", root_ / "te/B");
  EXPECT_EQ(resolve_data_splits({tr, va, te, 0.0, 0}).test->samples.size(), 2u);
}

TEST(Csv, EveryFieldIsQuotedAndRoundTrips) {
  const std::vector<std::string> fields{"\">…", "a,b", "say \"hi\"", "two\nlines", "", "plain"};
  const std::string row = csv_row(fields);
  EXPECT_EQ(row.substr(0, 9), "\"\"\">…\",");  // the quote doubled, the field quoted
  std::istringstream in(row + row);
  std::vector<std::string> back;
  int64_t line = 1;
  ASSERT_TRUE(read_csv_record(in, back, line));
  EXPECT_EQ(back, fields);
  ASSERT_TRUE(read_csv_record(in, back, line));
  EXPECT_EQ(back, fields);
  EXPECT_FALSE(read_csv_record(in, back, line));
}

int64_t files_under(const fs::path& dir) {
  int64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST_F(DataInputs, DemoDataWritesExactlyTheCount) {
  for (int64_t count : {13, 48}) {
    const fs::path out = root_ / ("demo" + std::to_string(count));
    EXPECT_EQ(write_demo_data({out.string(), count, 32, 1}), count);
    EXPECT_EQ(files_under(out), count);
    for (const char* split : {"train", "val", "test"})
      for (const char* cls : {"NORMAL", "PNEUMONIA"}) EXPECT_FALSE(fs::is_empty(out / split / cls)) << split << "/" << cls;
  }
}

TEST_F(DataInputs, DemoDataRefusesANonEmptyFolderUnlessForced) {
  const fs::path out = root_ / "demo";
  touch(out / "train/NORMAL/old.png");
  std::ofstream(out / "notes.txt") << "mine";
  EXPECT_THROW(write_demo_data({out.string(), 12, 32, 1}), UsageError);
  EXPECT_TRUE(fs::exists(out / "train/NORMAL/old.png"));
  DemoDataSpec spec{out.string(), 12, 32, 1};
  spec.force = true;
  EXPECT_EQ(write_demo_data(spec), 12);
  EXPECT_FALSE(fs::exists(out / "train/NORMAL/old.png"));  // the splits were replaced, not mixed
  EXPECT_TRUE(fs::exists(out / "notes.txt"));             // anything else is left alone
  EXPECT_EQ(files_under(out), 13);
}

}  // namespace
}  // namespace cxr
