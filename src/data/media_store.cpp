// Implementation of data/media_store.h.
#include "omnirm/data/media_store.h"

#include <fmt/format.h>

#include <atomic>
#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include <unistd.h>

#include "omnirm/core/content_hash.h"
#include "omnirm/core/error.h"

namespace omnirm::data {

namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little,
              "the media store's entries are little-endian");

namespace {

constexpr char kMagic[] = "omnirm-media-store 1\n";
constexpr int64_t kMaxFramesInKey = 100000;  // a frame directory past this is refused later

const char* kind_name(MediaKind kind) {
  switch (kind) {
    case MediaKind::image:
      return "image";
    case MediaKind::video:
      return "video";
    case MediaKind::audio:
      return "audio";
    case MediaKind::points:
      return "points";
  }
  return "?";
}

template <typename T>
void put_raw(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// Reads a T at `pos`, advancing it; false when the bytes run out.
template <typename T>
bool get_raw(const std::string& in, size_t& pos, T& value) {
  if (in.size() - pos < sizeof(T)) return false;
  std::memcpy(&value, in.data() + pos, sizeof(T));
  pos += sizeof(T);
  return true;
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

struct MediaStore::Counters {
  std::atomic<int64_t> hits{0};
  std::atomic<int64_t> misses{0};
  std::atomic<int64_t> writes{0};
};

MediaStore::MediaStore(std::string directory)
    : directory_(std::move(directory)), counters_(std::make_shared<Counters>()) {
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error || !fs::is_directory(directory_)) {
    throw UserError(
        fmt::format("data.media_store: cannot create the directory {} ({}); choose a "
                    "writable path",
                    directory_, error ? error.message() : "not a directory"));
  }
}

std::string MediaStore::key_of(const std::string& path, MediaKind kind,
                               const std::string& settings) {
  std::error_code error;
  const FileDigest digest =
      fs::is_directory(path, error) ? digest_directory(path, kMaxFramesInKey) : digest_file(path);
  return fmt::format("{}|{:016x}|{}|{}", kind_name(kind), digest.hash, digest.size, settings);
}

std::string MediaStore::file_of(const std::string& key) const {
  const uint64_t name = content_hash(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  return (fs::path(directory_) / fmt::format("{:016x}.bin", name)).string();
}

std::optional<MediaItem> MediaStore::find(const std::string& key) {
  const std::string bytes = read_whole(file_of(key));
  size_t pos = 0;
  const auto absent = [&]() -> std::optional<MediaItem> {
    ++counters_->misses;
    return std::nullopt;
  };
  if (bytes.compare(0, sizeof(kMagic) - 1, kMagic) != 0) return absent();
  pos = sizeof(kMagic) - 1;
  uint32_t key_length = 0;
  if (!get_raw(bytes, pos, key_length) || bytes.size() - pos < key_length ||
      bytes.compare(pos, key_length, key) != 0 || key_length != key.size()) {
    return absent();
  }
  pos += key_length;
  uint8_t kind = 0;
  uint32_t rank = 0;
  if (!get_raw(bytes, pos, kind) || kind > uint8_t(MediaKind::points) ||
      !get_raw(bytes, pos, rank) || rank > 8) {
    return absent();
  }
  MediaItem item;
  item.kind = static_cast<MediaKind>(kind);
  int64_t count = 1;
  for (uint32_t d = 0; d < rank; ++d) {
    int64_t size = 0;
    if (!get_raw(bytes, pos, size) || size < 0 || size > (int64_t(1) << 40)) return absent();
    item.shape.push_back(size);
    count *= size;
  }
  if (static_cast<int64_t>(bytes.size() - pos) != count * int64_t(sizeof(float))) return absent();
  auto values = std::make_shared<std::vector<float>>(static_cast<size_t>(count));
  std::memcpy(values->data(), bytes.data() + pos, bytes.size() - pos);
  item.values = std::move(values);
  ++counters_->hits;
  return item;
}

void MediaStore::put(const std::string& key, const MediaItem& item) {
  const std::string target = file_of(key);
  std::error_code error;
  if (fs::exists(target, error)) return;
  std::string bytes(kMagic, sizeof(kMagic) - 1);
  put_raw(bytes, static_cast<uint32_t>(key.size()));
  bytes += key;
  put_raw(bytes, static_cast<uint8_t>(item.kind));
  put_raw(bytes, static_cast<uint32_t>(item.shape.size()));
  for (const int64_t size : item.shape) put_raw(bytes, size);
  bytes.append(reinterpret_cast<const char*>(item.values->data()),
               item.values->size() * sizeof(float));
  // A name of this writer's own, so concurrent writers of one key never share a file.
  const std::string temporary =
      fmt::format("{}.{}.{}.tmp", target, static_cast<long>(::getpid()),
                  std::hash<std::thread::id>{}(std::this_thread::get_id()));
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      fs::remove(temporary, error);
      return;
    }
  }
  fs::rename(temporary, target, error);
  if (error) {
    fs::remove(temporary, error);
    return;
  }
  ++counters_->writes;
}

MediaStoreStats MediaStore::stats() const {
  return {counters_->hits.load(), counters_->misses.load(), counters_->writes.load()};
}

}  // namespace omnirm::data
