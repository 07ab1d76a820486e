// The recipe reference cannot drift from the parser: the keys the parser reads (it reads every
// key of a recipe, present or not), its key table (recipes/recipe_keys.h), README.md's "Recipe
// reference" table and docs/recipe.md's key tables are the same set. A key added to the parser
// only is refused by the parser itself (an internal error this test reports); a key added to the
// table or a document only is named as missing from the others.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "recipes/recipe_keys.h"
#include "recipes/recipe_parser.h"

namespace cxr {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every `code` span in the first cell of each table row ("| `data.train`, `data.val` | ..."),
// header and separator rows excluded.
std::set<std::string> table_keys(const std::string& markdown) {
  std::set<std::string> keys;
  std::istringstream in(markdown);
  const std::regex code("`([^`]+)`");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| ", 0) != 0) continue;
    const size_t end = line.find(" |", 1);
    const std::string cell = line.substr(1, end == std::string::npos ? std::string::npos : end - 1);
    for (std::sregex_iterator it(cell.begin(), cell.end(), code), stop; it != stop; ++it) keys.insert((*it)[1]);
  }
  return keys;
}

// The text from `heading` to the next heading of the same level.
std::string section(const std::string& markdown, const std::string& heading) {
  const size_t start = markdown.find("\n" + heading + "\n");
  EXPECT_NE(start, std::string::npos) << "no heading '" << heading << "'";
  if (start == std::string::npos) return "";
  const size_t end = markdown.find("\n## ", start + heading.size() + 1);
  return markdown.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// "" when equal; otherwise the names each side lacks.
std::string difference(const std::set<std::string>& want, const std::set<std::string>& got, const std::string& where) {
  std::string missing, extra;
  for (const std::string& k : want)
    if (!got.count(k)) missing += " " + k;
  for (const std::string& k : got)
    if (!want.count(k)) extra += " " + k;
  std::string out;
  if (!missing.empty()) out += where + " lacks:" + missing + "\n";
  if (!extra.empty()) out += where + " lists keys the parser does not accept:" + extra + "\n";
  return out;
}

std::set<std::string> parser_keys() {
  const std::vector<std::string> read = recipe_keys_read();  // throws if a key is not in the table
  return {read.begin(), read.end()};
}

TEST(RecipeKeysDoc, ParserReadsExactlyTheKeyTable) {
  std::set<std::string> read;
  try {
    read = parser_keys();
  } catch (const std::logic_error& e) {
    FAIL() << e.what();
  }
  const std::set<std::string> table(recipe_keys().begin(), recipe_keys().end());
  EXPECT_EQ(table.size(), recipe_keys().size()) << "recipes/recipe_keys.cpp lists a key twice";
  const std::string d = difference(table, read, "the parser");
  EXPECT_TRUE(d.empty()) << d;
}

TEST(RecipeKeysDoc, ReadmeRecipeReferenceListsExactlyTheParsersKeys) {
  const std::set<std::string> keys = parser_keys();
  const std::string readme = section(slurp(std::string(CXRTUNE_SOURCE_DIR) + "/README.md"), "## Recipe reference");
  const std::string d = difference(keys, table_keys(readme), "README.md's recipe reference");
  EXPECT_TRUE(d.empty()) << d;
}

TEST(RecipeKeysDoc, DocsRecipeListsExactlyTheParsersKeys) {
  const std::set<std::string> keys = parser_keys();
  const std::string doc = slurp(std::string(CXRTUNE_SOURCE_DIR) + "/docs/recipe.md");
  const std::string d = difference(keys, table_keys(doc), "docs/recipe.md");
  EXPECT_TRUE(d.empty()) << d;
}

// The extraction itself: a row's first cell only, every code span in it.
TEST(RecipeKeysDoc, TableKeysReadsFirstCells) {
  const std::set<std::string> got =
      table_keys("| key | default |\n| --- | --- |\n| `a.b`, `a.c` | `x` |\ntext `n.o`\n| `d` | |\n");
  EXPECT_EQ(got, (std::set<std::string>{"a.b", "a.c", "d"}));
}

}  // namespace
}  // namespace cxr
