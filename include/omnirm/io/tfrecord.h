// TFRecord framing, the container of TensorBoard event files. Each record is
//   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes |
//   payload (length bytes)        | uint32 masked CRC-32C of the payload
// Splitting checks both CRCs, so a flipped bit anywhere is reported, not read as data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace omnirm::io {

// The framed bytes of one record holding `payload`.
std::string tfrecord_frame(std::string_view payload);

struct TfRecord {
  std::string payload;
  uint64_t offset = 0;  // byte offset of the record's length field in the file
};

// What to do when the last record is cut short (a writer killed mid-write).
enum class TailPolicy {
  error,          // throw UserError
  keep_complete,  // return the complete records before it and describe it in `truncated_tail`
};

struct TfRecordSplit {
  std::vector<TfRecord> records;
  std::string truncated_tail;  // empty unless TailPolicy::keep_complete dropped a record
};

// Splits a file's bytes into records; `origin` (the path) starts every message. A CRC
// mismatch always throws UserError naming the record number and byte offset, e.g.
// "run/tb/events...: record 3 at byte 120: payload CRC mismatch (stored 0x..., computed 0x...);
// the file is corrupt".
TfRecordSplit tfrecord_split(std::string_view bytes, const std::string& origin,
                             TailPolicy tail = TailPolicy::error);

}  // namespace omnirm::io
