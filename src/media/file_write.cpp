// Whole-file writes and write errors for the media writers (see file_write.h).
#include "file_write.h"

#include <fstream>

#include "media_common.h"

namespace omnirm::media::detail {

void fail_write(const std::string& path, std::string_view what) {
  fail(path, what, "check that the directory exists and is writable");
}

void write_whole_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail_write(path, "cannot open the file for writing");
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.flush();
  if (!out) fail_write(path, "writing the file failed");
}

}  // namespace omnirm::media::detail
