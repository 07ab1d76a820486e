// The documents the code cites are in the repository: no file cites the design notes that lived
// outside it, and every docs/<page>.md that a source, script or document names exists.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cxr {
namespace {

namespace fs = std::filesystem;

// The project's own text files: build trees, hidden folders (.git, virtual environments) and
// third-party checkouts are not walked.
std::vector<fs::path> project_files() {
  static const std::set<std::string> kinds{".cpp", ".h", ".cu", ".txt", ".cmake", ".sh", ".py", ".md", ".yaml", ""};
  std::vector<fs::path> out;
  const fs::path root(CXRTUNE_SOURCE_DIR);
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name.rfind("build", 0) == 0 || name[0] == '.' || name == "shared" || name == "results")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && kinds.count(it->path().extension().string()) &&
        (it->path().extension() != "" || name == "Makefile"))
      out.push_back(it->path());
  }
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DocsReferences, NothingCitesNotesOutsideTheRepository) {
  // Spelt in two pieces so that this file does not cite them itself.
  const std::vector<std::string> outside{std::string("contracts") + ".md", std::string("deps-notes") + ".md"};
  std::string found;
  for (const fs::path& p : project_files()) {
    const std::string text = slurp(p);
    for (const std::string& o : outside)
      if (text.find(o) != std::string::npos) found += "  " + fs::relative(p, CXRTUNE_SOURCE_DIR).string() + " cites " + o + "\n";
  }
  EXPECT_TRUE(found.empty()) << "cite the docs/ page that holds the fact instead:\n" << found;
}

TEST(DocsReferences, EveryCitedDocsPageExists) {
  const std::regex page(R"(docs/([A-Za-z0-9_-]+\.md))");
  std::string missing;
  size_t cited = 0;
  for (const fs::path& p : project_files()) {
    const std::string text = slurp(p);
    for (std::sregex_iterator it(text.begin(), text.end(), page), end; it != end; ++it) {
      ++cited;
      if (!fs::exists(fs::path(CXRTUNE_SOURCE_DIR) / "docs" / (*it)[1].str()))
        missing += "  " + fs::relative(p, CXRTUNE_SOURCE_DIR).string() + " cites docs/" + (*it)[1].str() + "\n";
    }
  }
  EXPECT_GT(cited, 10u);  // the walk found the sources at all
  EXPECT_TRUE(missing.empty()) << missing;
}

}  // namespace
}  // namespace cxr
