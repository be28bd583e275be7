// Shared by the media writers: writing a whole file and the one-line error for a failed write.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace omnirm::media::detail {

// Throws omnirm::UserError("<path>: <what>; check that the directory exists and is writable").
[[noreturn]] void fail_write(const std::string& path, std::string_view what);

// Writes `size` bytes to `path`, replacing any file there.
void write_whole_file(const std::string& path, const void* data, size_t size);

}  // namespace omnirm::media::detail
