// The decoded-media cache (see media_cache.h): content keys, LRU by bytes, single decode per
// key under concurrency via a shared future that waiting callers block on.
#include "omnirm/media/media_cache.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <future>
#include <stdexcept>

#include "media_common.h"
#include "omnirm/core/content_hash.h"
#include "omnirm/core/error.h"

namespace omnirm::media {
namespace {

std::string number(double value) {
  char text[40];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

std::string digest_key(const char* kind, const FileDigest& digest) {
  char text[80];
  std::snprintf(text, sizeof(text), "%s|%016llx|%llu", kind,
                static_cast<unsigned long long>(digest.hash),
                static_cast<unsigned long long>(digest.size));
  return text;
}

// A file: its content. A directory (of video frames): every regular file's name and content,
// in name order.
FileDigest digest_path(const std::string& path, const MediaLimits& limits) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) {
    detail::checked_file_size(path, limits);
    return digest_file(path);
  }
  return digest_directory(path, limits.max_frames_scanned);
}

}  // namespace

struct MediaCache::Entry {
  std::shared_ptr<const void> value;
  int64_t bytes = 0;
  std::list<std::string>::iterator position;
};

struct MediaCache::InFlight {
  std::promise<std::shared_ptr<const void>> promise;
  std::shared_future<std::shared_ptr<const void>> result = promise.get_future().share();
};

MediaCache::MediaCache(int64_t capacity_bytes, MediaLimits limits)
    : capacity_bytes_(capacity_bytes), limits_(limits) {
  if (capacity_bytes < 0) throw std::invalid_argument("MediaCache: negative capacity");
}

MediaCache::~MediaCache() = default;

MediaCacheStats MediaCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

std::shared_ptr<const void> MediaCache::get_or_decode(const std::string& key,
                                                      const DecodeFunction& decode) {
  std::shared_ptr<InFlight> flight;
  bool decode_here = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto found = entries_.find(key); found != entries_.end()) {
      recency_.splice(recency_.begin(), recency_, found->second->position);
      ++stats_.hits;
      return found->second->value;
    }
    if (auto pending = in_flight_.find(key); pending != in_flight_.end()) {
      ++stats_.hits;
      flight = pending->second;
    } else {
      ++stats_.misses;
      flight = std::make_shared<InFlight>();
      in_flight_.emplace(key, flight);
      decode_here = true;
    }
  }
  if (!decode_here) return flight->result.get();  // rethrows the decoder's error

  try {
    int64_t bytes = 0;
    std::shared_ptr<const void> value = decode(&bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_flight_.erase(key);
      insert_locked(key, value, bytes);
    }
    flight->promise.set_value(value);
    return value;
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_flight_.erase(key);
    }
    flight->promise.set_exception(std::current_exception());
    throw;
  }
}

void MediaCache::insert_locked(const std::string& key, std::shared_ptr<const void> value,
                               int64_t bytes) {
  if (bytes > capacity_bytes_) return;  // returned to the caller, not kept
  recency_.push_front(key);
  auto entry = std::make_unique<Entry>();
  entry->value = std::move(value);
  entry->bytes = bytes;
  entry->position = recency_.begin();
  entries_[key] = std::move(entry);
  stats_.bytes += bytes;
  while (stats_.bytes > capacity_bytes_ && !recency_.empty()) {
    const std::string& oldest = recency_.back();
    stats_.bytes -= entries_.at(oldest)->bytes;
    entries_.erase(oldest);
    recency_.pop_back();
    ++stats_.evictions;
  }
  stats_.entries = static_cast<int64_t>(entries_.size());
}

std::shared_ptr<const Image> MediaCache::image(const std::string& path,
                                               const ImageOptions& options) {
  const std::string key =
      digest_key("image", digest_path(path, limits_)) + "|" + std::to_string(options.max_side);
  return std::static_pointer_cast<const Image>(get_or_decode(key, [&](int64_t* bytes) {
    auto image = std::make_shared<const Image>(decode_image(path, options, limits_));
    *bytes = static_cast<int64_t>(image->byte_size());
    return image;
  }));
}

std::shared_ptr<const Audio> MediaCache::audio(const std::string& path,
                                               const AudioOptions& options) {
  const std::string key =
      digest_key("audio", digest_path(path, limits_)) + "|" + std::to_string(options.sample_rate);
  return std::static_pointer_cast<const Audio>(get_or_decode(key, [&](int64_t* bytes) {
    auto audio = std::make_shared<const Audio>(decode_audio(path, options, limits_));
    *bytes = static_cast<int64_t>(audio->byte_size());
    return audio;
  }));
}

std::shared_ptr<const LogMel> MediaCache::log_mel(const std::string& path,
                                                  const LogMelOptions& options) {
  const std::string key = digest_key("log_mel", digest_path(path, limits_)) + "|" +
                          std::to_string(options.sample_rate) + "|" +
                          std::to_string(options.n_fft) + "|" + std::to_string(options.hop_length) +
                          "|" + std::to_string(options.n_mels);
  return std::static_pointer_cast<const LogMel>(get_or_decode(key, [&](int64_t* bytes) {
    const Audio audio = decode_audio(path, {options.sample_rate}, limits_);
    if (static_cast<int64_t>(audio.samples.size()) < options.hop_length) {
      detail::fail(path,
                   "audio is shorter than one feature frame (" +
                       std::to_string(options.hop_length) + " samples)",
                   "use a longer clip");
    }
    auto features = std::make_shared<const LogMel>(log_mel_spectrogram(audio.samples, options));
    *bytes = static_cast<int64_t>(features->byte_size());
    return features;
  }));
}

std::shared_ptr<const Video> MediaCache::video(const std::string& path,
                                               const VideoOptions& options) {
  const std::string key = digest_key("video", digest_path(path, limits_)) + "|" +
                          number(options.max_fps) + "|" + std::to_string(options.max_frames) + "|" +
                          std::to_string(options.max_side) + "|" + number(options.directory_fps) +
                          "|" + std::to_string(static_cast<int>(options.sampling)) + "|" +
                          std::to_string(static_cast<int>(options.rgb));
  return std::static_pointer_cast<const Video>(get_or_decode(key, [&](int64_t* bytes) {
    auto video = std::make_shared<const Video>(decode_video(path, options, limits_));
    *bytes = static_cast<int64_t>(video->byte_size());
    return video;
  }));
}

std::shared_ptr<const PointCloud> MediaCache::point_cloud(const std::string& path,
                                                          const PointCloudOptions& options) {
  // The extension is part of the key: Assimp picks some readers (OBJ, STL) by it.
  const std::string key = digest_key("point_cloud", digest_path(path, limits_)) + "|" +
                          std::filesystem::path(path).extension().string() + "|" +
                          std::to_string(options.num_points) + "|" +
                          std::to_string(options.with_normals) + "|" + std::to_string(options.seed);
  return std::static_pointer_cast<const PointCloud>(get_or_decode(key, [&](int64_t* bytes) {
    auto cloud = std::make_shared<const PointCloud>(decode_point_cloud(path, options, limits_));
    *bytes = static_cast<int64_t>(cloud->byte_size());
    return cloud;
  }));
}

}  // namespace omnirm::media
