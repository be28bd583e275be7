// Implementation of data/media_path.h.
#include "omnirm/data/media_path.h"

#include <cctype>

namespace omnirm::data {
namespace {

constexpr size_t kMaxQuotedBytes = 60;

}  // namespace

std::string quoted_for_message(std::string_view value) {
  bool truncated = false;
  if (value.size() > kMaxQuotedBytes) {
    size_t cut = kMaxQuotedBytes;
    while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
    value = value.substr(0, cut);
    truncated = true;
  }
  std::string out = "'";
  for (const char c : value) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (truncated) out += "...";
  return out + "'";
}

std::optional<std::string> media_path_problem(std::string_view path, std::string_view root_name) {
  if (path.empty()) return "must not be empty";
  const bool drive_letter =
      path.size() >= 2 && std::isalpha(static_cast<unsigned char>(path[0])) && path[1] == ':';
  if (path[0] == '/' || path[0] == '\\' || drive_letter) {
    return "absolute path " + quoted_for_message(path) +
           " is not allowed; give media paths relative to " + std::string(root_name);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") {
      return "path " + quoted_for_message(path) + " may leave " + std::string(root_name) +
             "; '..' components are not allowed";
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace omnirm::data
