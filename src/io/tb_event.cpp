// Implementation of io/tb_event.h: protobuf wire format (varints, fixed 32/64-bit values and
// length-delimited fields) for the few fields of Event, Summary and Summary.Value.
#include "omnirm/io/tb_event.h"

#include <bit>

#include "omnirm/core/error.h"

namespace omnirm::io {

namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_key(std::string& out, uint32_t field, WireType type) {
  put_varint(out, field << 3 | type);
}

void put_fixed(std::string& out, uint64_t bits, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

// Reads one message's fields in order; every read checks the bytes are there.
class WireReader {
 public:
  WireReader(std::string_view bytes, const std::string& where) : bytes_(bytes), where_(where) {}

  bool done() const { return at_ >= bytes_.size(); }

  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (done()) fail("a varint runs past the end of the message");
      const auto byte = static_cast<uint8_t>(bytes_[at_++]);
      value |= uint64_t(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    fail("a varint is longer than 10 bytes");
  }

  uint64_t fixed(int bytes) {
    if (bytes_.size() - at_ < size_t(bytes)) fail("a fixed-size field runs past the end");
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
      value |= uint64_t(static_cast<uint8_t>(bytes_[at_++])) << (8 * i);
    return value;
  }

  std::string_view length_delimited() {
    const uint64_t length = varint();
    if (length > bytes_.size() - at_) fail("a length-delimited field runs past the end");
    const std::string_view value = bytes_.substr(at_, length);
    at_ += length;
    return value;
  }

  // Skips a field of this wire type that the caller does not use.
  void skip(uint32_t type) {
    switch (type) {
      case kVarint:
        varint();
        return;
      case kFixed64:
        fixed(8);
        return;
      case kLengthDelimited:
        length_delimited();
        return;
      case kFixed32:
        fixed(4);
        return;
      default:
        fail("unsupported protobuf wire type " + std::to_string(type));
    }
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw UserError(where_ + ": malformed event (" + what + " at byte " + std::to_string(at_) +
                    " of the record); the file is corrupt or not a TensorBoard event file");
  }

 private:
  std::string_view bytes_;
  const std::string& where_;
  size_t at_ = 0;
};

// Summary.Value: a scalar if it has simple_value; values of other kinds are left out.
bool decode_value(std::string_view bytes, const std::string& where, ScalarValue& scalar) {
  WireReader in(bytes, where);
  bool has_value = false;
  while (!in.done()) {
    const uint64_t key = in.varint();
    const auto field = static_cast<uint32_t>(key >> 3);
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1 && type == kLengthDelimited) {
      scalar.tag = std::string(in.length_delimited());
    } else if (field == 2 && type == kFixed32) {
      scalar.value = std::bit_cast<float>(static_cast<uint32_t>(in.fixed(4)));
      has_value = true;
    } else {
      in.skip(type);
    }
  }
  return has_value;
}

void decode_summary(std::string_view bytes, const std::string& where, TbEvent& event) {
  WireReader in(bytes, where);
  while (!in.done()) {
    const uint64_t key = in.varint();
    const auto type = static_cast<uint32_t>(key & 7);
    if ((key >> 3) == 1 && type == kLengthDelimited) {
      ScalarValue scalar;
      if (decode_value(in.length_delimited(), where, scalar)) event.scalars.push_back(scalar);
    } else {
      in.skip(type);
    }
  }
}

// SessionLog.status; 0 (unspecified) when absent.
uint64_t session_status(std::string_view bytes, const std::string& where) {
  WireReader in(bytes, where);
  uint64_t status = 0;
  while (!in.done()) {
    const uint64_t key = in.varint();
    const auto type = static_cast<uint32_t>(key & 7);
    if ((key >> 3) == 1 && type == kVarint) {
      status = in.varint();
    } else {
      in.skip(type);
    }
  }
  return status;
}

}  // namespace

std::string encode_tb_event(const TbEvent& event) {
  std::string out;
  put_key(out, 1, kFixed64);
  put_fixed(out, std::bit_cast<uint64_t>(event.wall_time), 8);
  put_key(out, 2, kVarint);
  put_varint(out, static_cast<uint64_t>(event.step));
  if (!event.file_version.empty()) put_bytes(out, 3, event.file_version);
  if (event.session_start) {
    std::string session_log;
    put_key(session_log, 1, kVarint);
    put_varint(session_log, 1);  // SessionLog.START
    put_bytes(out, 7, session_log);
  }
  if (!event.scalars.empty()) {
    std::string summary;
    for (const ScalarValue& scalar : event.scalars) {
      std::string value;
      put_bytes(value, 1, scalar.tag);
      put_key(value, 2, kFixed32);
      put_fixed(value, std::bit_cast<uint32_t>(scalar.value), 4);
      put_bytes(summary, 1, value);
    }
    put_bytes(out, 5, summary);
  }
  return out;
}

TbEvent decode_tb_event(std::string_view payload, const std::string& where) {
  TbEvent event;
  WireReader in(payload, where);
  while (!in.done()) {
    const uint64_t key = in.varint();
    const auto field = static_cast<uint32_t>(key >> 3);
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1 && type == kFixed64) {
      event.wall_time = std::bit_cast<double>(in.fixed(8));
    } else if (field == 2 && type == kVarint) {
      event.step = static_cast<int64_t>(in.varint());
    } else if (field == 3 && type == kLengthDelimited) {
      event.file_version = std::string(in.length_delimited());
    } else if (field == 5 && type == kLengthDelimited) {
      decode_summary(in.length_delimited(), where, event);
    } else if (field == 7 && type == kLengthDelimited) {
      event.session_start = session_status(in.length_delimited(), where) == 1;
    } else {
      in.skip(type);
    }
  }
  return event;
}

}  // namespace omnirm::io
