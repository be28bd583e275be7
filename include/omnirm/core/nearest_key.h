// "Did you mean ...?" support: the edit distance between two names and the closest of a
// list of valid names, so that a misspelt key can be answered with the one that was meant.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace omnirm {

// Levenshtein distance: the fewest single-character insertions, deletions and
// substitutions that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate with the smallest edit distance to `query`, provided that distance is at
// most `max_distance`; ties go to the candidate listed first. nullopt when none is close.
std::optional<std::string> nearest_key(std::string_view query,
                                       const std::vector<std::string>& candidates,
                                       std::size_t max_distance);

}  // namespace omnirm
