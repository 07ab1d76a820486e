// Recipe YAML in and out. Unknown keys, wrong types and out-of-range values are UsageErrors
// naming the file, line:column and key path ("demo.yaml:12:3: optimizer.lr: expected a number
// > 0, got 'fast'"); a misspelt key gets a "did you mean". `--set a.b=v` overrides are parsed as
// YAML values, validated the same way, and named in errors.
#pragma once
#include <string>
#include <vector>

#include "recipes/recipe.h"

namespace cxr {

Recipe parse_recipe_file(const std::string& path, const std::vector<std::string>& overrides = {});
Recipe parse_recipe_text(const std::string& yaml, const std::string& source,
                         const std::vector<std::string>& overrides = {});

// Every key path the parser reads when it parses a recipe (it reads each one, present or not),
// sorted. Equal to recipe_keys() (recipes/recipe_keys.h); the documentation test compares both.
std::vector<std::string> recipe_keys_read();

// The resolved recipe as YAML; parsing it gives the same Recipe.
std::string recipe_to_yaml(const Recipe& recipe);

}  // namespace cxr
