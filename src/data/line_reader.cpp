// Implementation of line_reader.h with POSIX read/pread.
#include "line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "omnirm/core/error.h"

namespace omnirm::data {

int open_for_reading(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (!std::filesystem::exists(status)) {
    throw UserError("data file '" + path + "' does not exist; check the data path");
  }
  if (std::filesystem::is_directory(status)) {
    throw UserError("data file '" + path + "' is a directory; give the path of a .jsonl file");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw UserError("cannot open data file '" + path + "': " + std::strerror(errno) +
                    "; check the path and its permissions");
  }
  return fd;
}

void read_exactly(int fd, uint64_t offset, size_t length, char* out, const std::string& path) {
  size_t done = 0;
  while (done < length) {
    const ssize_t got = ::pread(fd, out + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw UserError("data file '" + path + "' became shorter or unreadable at byte " +
                      std::to_string(offset + done) +
                      " after it was indexed; do not change data files during a run");
    }
    done += static_cast<size_t>(got);
  }
}

LineReader::LineReader(const std::string& path, size_t chunk_bytes)
    : path_(path), fd_(open_for_reading(path)), buffer_(chunk_bytes) {
  struct stat info {};
  if (::fstat(fd_, &info) == 0) file_bytes_ = static_cast<uint64_t>(info.st_size);
}

LineReader::~LineReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool LineReader::fill() {
  if (at_eof_) return false;
  // Keep the unread tail at the front; grow when one line fills the whole buffer.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    buffer_offset_ += begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  for (;;) {
    const ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      throw UserError("read error in data file '" + path_ + "': " + std::strerror(errno) +
                      "; check the file and the disk");
    }
    if (got == 0) {
      at_eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(got);
    return true;
  }
}

bool LineReader::next(TextLine& line) {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const void* newline = std::memchr(start, '\n', end_ - begin_);
    size_t length = 0;
    size_t consumed = 0;
    if (newline != nullptr) {
      length = static_cast<size_t>(static_cast<const char*>(newline) - start);
      consumed = length + 1;
    } else if (fill()) {
      continue;
    } else if (begin_ < end_) {  // a last line without '\n'
      start = buffer_.data() + begin_;
      length = end_ - begin_;
      consumed = length;
    } else {
      return false;
    }
    start = buffer_.data() + begin_;
    uint64_t offset = buffer_offset_ + begin_;
    begin_ += consumed;
    ++line_number_;
    if (line_number_ == 1 && length >= 3 && std::memcmp(start, "\xEF\xBB\xBF", 3) == 0) {
      start += 3;
      length -= 3;
      offset += 3;
    }
    if (length > 0 && start[length - 1] == '\r') --length;
    line.text = std::string_view(start, length);
    line.offset = offset;
    line.number = line_number_;
    return true;
  }
}

}  // namespace omnirm::data
