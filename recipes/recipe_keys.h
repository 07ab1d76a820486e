// Every key a recipe may hold, by its full path ("optimizer.lr"; "plugins" at the top level).
// This is the one list: the parser refuses to read a key that is not here (an internal error,
// found by any test that parses a recipe), suggests "did you mean" from it, and
// tests/docs/recipe_keys_doc_test.cpp checks that README.md's recipe reference and
// docs/recipe.md list exactly these. Adding a key: its line here, the line in
// recipe_parser.cpp that reads it, and its row in the two documents.
#pragma once
#include <string>
#include <vector>

namespace cxr {

const std::vector<std::string>& recipe_keys();

// The keys directly under `section` ("" for the top level), without the section prefix.
std::vector<std::string> recipe_keys_in(const std::string& section);

}  // namespace cxr
