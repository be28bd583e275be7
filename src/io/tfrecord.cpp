// Implementation of io/tfrecord.h.
#include "omnirm/io/tfrecord.h"

#include <fmt/format.h>

#include "omnirm/core/error.h"
#include "omnirm/io/crc32c.h"

namespace omnirm::io {

namespace {

constexpr size_t kHeaderBytes = 8 + 4;  // length, masked CRC of the length
constexpr size_t kFooterBytes = 4;      // masked CRC of the payload

void append_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}

uint64_t read_le(std::string_view bytes, size_t at, int count) {
  uint64_t value = 0;
  for (int i = 0; i < count; ++i) {
    value |= uint64_t(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  }
  return value;
}

}  // namespace

std::string tfrecord_frame(std::string_view payload) {
  std::string out;
  out.reserve(kHeaderBytes + payload.size() + kFooterBytes);
  append_le(out, payload.size(), 8);
  append_le(out, mask_crc32c(crc32c(out)), 4);
  out.append(payload);
  append_le(out, mask_crc32c(crc32c(payload)), 4);
  return out;
}

TfRecordSplit tfrecord_split(std::string_view bytes, const std::string& origin, TailPolicy tail) {
  TfRecordSplit split;
  size_t at = 0;
  int64_t number = 1;
  // A record that the file ends inside of: an error, or the end of what is read.
  auto truncated = [&](const std::string& what) {
    const std::string message = fmt::format(
        "{}: record {} at byte {} is truncated ({}); the writer was probably stopped mid-record",
        origin, number, at, what);
    if (tail == TailPolicy::error) throw UserError(message);
    split.truncated_tail = message;
  };
  while (at < bytes.size()) {
    const size_t left = bytes.size() - at;
    if (left < kHeaderBytes) {
      truncated(fmt::format("{} of its {} header bytes are present", left, kHeaderBytes));
      break;
    }
    const uint64_t length = read_le(bytes, at, 8);
    const uint32_t stored_length_crc = static_cast<uint32_t>(read_le(bytes, at + 8, 4));
    const uint32_t length_crc = mask_crc32c(crc32c(bytes.substr(at, 8)));
    if (stored_length_crc != length_crc) {
      throw UserError(fmt::format(
          "{}: record {} at byte {}: length CRC mismatch (stored 0x{:08X}, computed 0x{:08X}); "
          "the file is corrupt",
          origin, number, at, stored_length_crc, length_crc));
    }
    if (length > left - kHeaderBytes || left - kHeaderBytes - length < kFooterBytes) {
      truncated(fmt::format("{} bytes after its header, {} needed", left - kHeaderBytes,
                            length + kFooterBytes));
      break;
    }
    const std::string_view payload = bytes.substr(at + kHeaderBytes, length);
    const uint32_t stored_crc =
        static_cast<uint32_t>(read_le(bytes, at + kHeaderBytes + length, 4));
    const uint32_t payload_crc = mask_crc32c(crc32c(payload));
    if (stored_crc != payload_crc) {
      throw UserError(fmt::format(
          "{}: record {} at byte {}: payload CRC mismatch (stored 0x{:08X}, computed 0x{:08X}); "
          "the file is corrupt",
          origin, number, at, stored_crc, payload_crc));
    }
    split.records.push_back({std::string(payload), at});
    at += kHeaderBytes + length + kFooterBytes;
    ++number;
  }
  return split;
}

}  // namespace omnirm::io
