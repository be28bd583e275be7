// Reading a text file line by line in large chunks (read(2) into one growing buffer), with
// each line's byte offset and number. A UTF-8 byte order mark on the first line and a
// trailing '\r' are left out of the line; the '\n' is never part of it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace omnirm::data {

struct TextLine {
  std::string_view text;  // valid until the next call to next()
  uint64_t offset = 0;    // of text's first byte in the file
  int64_t number = 0;     // 1-based
};

class LineReader {
 public:
  // Throws UserError naming the path when it is missing, a directory or unreadable.
  explicit LineReader(const std::string& path, size_t chunk_bytes = size_t{4} << 20);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line (blank ones included); false at the end of the file.
  bool next(TextLine& line);
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  bool fill();  // reads more after the unread part; false at the end of the file

  std::string path_;
  int fd_ = -1;
  uint64_t file_bytes_ = 0;
  std::vector<char> buffer_;
  size_t begin_ = 0;            // first unread byte in buffer_
  size_t end_ = 0;              // one past the last valid byte in buffer_
  uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]
  int64_t line_number_ = 0;
  bool at_eof_ = false;
};

// `length` bytes at `offset` of an open file; throws UserError when the file is shorter.
void read_exactly(int fd, uint64_t offset, size_t length, char* out, const std::string& path);

// Opens a file for reading; throws UserError naming it when it cannot.
int open_for_reading(const std::string& path);

}  // namespace omnirm::data
