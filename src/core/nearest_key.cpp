// Edit distance and nearest-name lookup (include/omnirm/core/nearest_key.h).
#include "omnirm/core/nearest_key.h"

#include <algorithm>

namespace omnirm {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the classic dynamic-programming table: previous_row[j] is the distance
  // between the first i-1 characters of `a` and the first j characters of `b`.
  std::vector<std::size_t> previous_row(b.size() + 1);
  std::vector<std::size_t> current_row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous_row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current_row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous_row[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      const std::size_t deletion = previous_row[j] + 1;
      const std::size_t insertion = current_row[j - 1] + 1;
      current_row[j] = std::min({substitution, deletion, insertion});
    }
    std::swap(previous_row, current_row);
  }
  return previous_row[b.size()];
}

std::optional<std::string> nearest_key(std::string_view query,
                                       const std::vector<std::string>& candidates,
                                       std::size_t max_distance) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(query, candidate);
    if (distance <= max_distance && (!best || distance < best_distance)) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace omnirm
