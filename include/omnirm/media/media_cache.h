// A cache of decoded media keyed by file content, so a file referenced by many pairs (or
// the same bytes under several names) is decoded once.
//
// Key: the kind of decode, a 64-bit content hash and the size of the bytes (for a frame
// directory: of every file name and content in order), and every decode option. Entries are
// evicted least-recently-used first once their summed byte_size() exceeds the capacity; an
// item larger than the capacity is returned but not kept. Thread-safe: concurrent requests
// for the same key wait for a single decode. Decode errors are not cached. The limits are
// fixed per cache, so a result decoded under one set of limits never serves another.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "omnirm/media/audio.h"
#include "omnirm/media/image.h"
#include "omnirm/media/limits.h"
#include "omnirm/media/log_mel.h"
#include "omnirm/media/point_cloud.h"
#include "omnirm/media/video.h"

namespace omnirm::media {

struct MediaCacheStats {
  int64_t hits = 0;    // served without decoding (including waits on a decode in flight)
  int64_t misses = 0;  // decodes started
  int64_t evictions = 0;
  int64_t entries = 0;
  int64_t bytes = 0;  // summed byte_size() of the entries kept
};

class MediaCache {
 public:
  explicit MediaCache(int64_t capacity_bytes, MediaLimits limits = {});
  ~MediaCache();
  MediaCache(const MediaCache&) = delete;
  MediaCache& operator=(const MediaCache&) = delete;

  std::shared_ptr<const Image> image(const std::string& path, const ImageOptions& options = {});
  std::shared_ptr<const Audio> audio(const std::string& path, const AudioOptions& options = {});
  // decode_audio at options.sample_rate, then log_mel_spectrogram.
  std::shared_ptr<const LogMel> log_mel(const std::string& path, const LogMelOptions& options = {});
  std::shared_ptr<const Video> video(const std::string& path, const VideoOptions& options = {});
  std::shared_ptr<const PointCloud> point_cloud(const std::string& path,
                                                const PointCloudOptions& options = {});

  MediaCacheStats stats() const;
  int64_t capacity_bytes() const { return capacity_bytes_; }
  const MediaLimits& limits() const { return limits_; }

 private:
  struct Entry;
  struct InFlight;
  // Decodes one item and sets its byte size.
  using DecodeFunction = std::function<std::shared_ptr<const void>(int64_t* bytes)>;

  // Looks `key` up, or runs `decode` (outside the lock) and stores the result.
  std::shared_ptr<const void> get_or_decode(const std::string& key, const DecodeFunction& decode);
  void insert_locked(const std::string& key, std::shared_ptr<const void> value, int64_t bytes);

  const int64_t capacity_bytes_;
  const MediaLimits limits_;
  mutable std::mutex mutex_;
  std::list<std::string> recency_;  // most recently used first
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
  std::unordered_map<std::string, std::shared_ptr<InFlight>> in_flight_;
  MediaCacheStats stats_;
};

}  // namespace omnirm::media
