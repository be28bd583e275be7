// Implementation of byte_level.h: the tables are built once from the alphabet's definition.
#include "byte_level.h"

#include <vector>

namespace omnirm::text::byte_level {
namespace {

bool stands_for_itself(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

std::string utf8_of(uint32_t code_point) {
  std::string out;
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
  return out;
}

struct Tables {
  std::array<std::string, 256> chars;
  std::vector<int> byte_of_code_point;  // indexed by code point, -1 outside the alphabet
};

const Tables& tables() {
  static const Tables built = [] {
    Tables t;
    t.byte_of_code_point.assign(0x100 + 68, -1);
    uint32_t next = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
      const uint32_t code_point = stands_for_itself(byte) ? static_cast<uint32_t>(byte) : next++;
      t.chars[static_cast<size_t>(byte)] = utf8_of(code_point);
      t.byte_of_code_point[code_point] = byte;
    }
    return t;
  }();
  return built;
}

// Decodes one UTF-8 character of well-formed text at `at`, advancing `at`.
uint32_t next_code_point(std::string_view text, size_t& at) {
  const auto byte = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(text[i]));
  };
  const uint32_t lead = byte(at);
  int length = 1;
  uint32_t code_point = lead;
  if (lead >= 0xF0) {
    length = 4;
    code_point = lead & 0x07;
  } else if (lead >= 0xE0) {
    length = 3;
    code_point = lead & 0x0F;
  } else if (lead >= 0xC0) {
    length = 2;
    code_point = lead & 0x1F;
  }
  for (int k = 1; k < length && at + static_cast<size_t>(k) < text.size(); ++k) {
    code_point = (code_point << 6) | (byte(at + static_cast<size_t>(k)) & 0x3F);
  }
  at += static_cast<size_t>(length);
  return code_point;
}

}  // namespace

const std::array<std::string, 256>& byte_chars() { return tables().chars; }

void encode_bytes(std::string_view bytes, std::string& out) {
  const auto& chars = tables().chars;
  for (char c : bytes) out += chars[static_cast<unsigned char>(c)];
}

int byte_of(uint32_t code_point) {
  const auto& map = tables().byte_of_code_point;
  return code_point < map.size() ? map[code_point] : -1;
}

bool decode_token(std::string_view token, std::string& out) {
  const size_t start = out.size();
  for (size_t at = 0; at < token.size();) {
    const int byte = byte_of(next_code_point(token, at));
    if (byte < 0) {
      out.resize(start);
      out.append(token);
      return false;
    }
    out += static_cast<char>(byte);
  }
  return true;
}

}  // namespace omnirm::text::byte_level
