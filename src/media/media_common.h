// Shared by the media decoders: the one-line error format and bounded file reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/media/limits.h"

namespace omnirm::media::detail {

// Throws omnirm::UserError("<name>: <what>; <todo>").
[[noreturn]] void fail(const std::string& name, std::string_view what, std::string_view todo);

// Size of the regular file at `path`; throws a UserError when it does not exist, is not a
// regular file, or is larger than limits.max_file_bytes.
int64_t checked_file_size(const std::string& path, const MediaLimits& limits);

// The whole file, after checked_file_size.
std::vector<uint8_t> read_file_bytes(const std::string& path, const MediaLimits& limits);

// "12.50 s": a duration for messages.
std::string seconds_text(double seconds);

// Refuses a declared picture size outside `limits` (non-positive, a side over max_side, or
// more than max_pixels pixels) before anything is allocated for it.
void check_declared_size(const std::string& name, int64_t width, int64_t height,
                         const MediaLimits& limits);

// Up to `count` leading bytes of a file (fewer when it is shorter).
std::vector<uint8_t> read_file_head(const std::string& path, size_t count);

}  // namespace omnirm::media::detail
