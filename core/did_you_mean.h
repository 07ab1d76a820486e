// "Did you mean" for a misspelt name: the closest of the candidates by edit distance
// (Levenshtein), when it is close enough to be a likely typo. Used by the recipe parser for keys
// and by the dataset layouts for label names, so both suggest alike.
#pragma once
#include <string>
#include <vector>

namespace cxr {

size_t edit_distance(const std::string& a, const std::string& b);

// The candidate nearest to `word` with a distance below `max_distance` (the first on ties), or
// "" when none is that close.
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates,
                         size_t max_distance = 3);

}  // namespace cxr
