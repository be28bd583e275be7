// Media paths stay inside their root: a record (or a reward request) names media relative to
// a root directory, never by an absolute path and never through a ".." component, so no input
// can make omnirm read a file outside the root it was given.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace omnirm::data {

// What is wrong with `path` as a media path under a root (`root_name` as messages call it:
// "the dataset root", "--media-root"), or nullopt when it is acceptable: not empty, not
// absolute (no leading '/' or '\', no drive letter), no ".." component.
std::optional<std::string> media_path_problem(std::string_view path,
                                              std::string_view root_name = "the dataset root");

// A user value (a path, a task or role name) as it stands inside a one-line message:
// single-quoted, control characters replaced by '?', cut at a UTF-8 character boundary past 60
// bytes (marked "...").
std::string quoted_for_message(std::string_view value);

}  // namespace omnirm::data
