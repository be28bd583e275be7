// The decoded-media store (data.media_store): a directory of media already decoded into the
// float tensors a model's towers take, one file per (file content, kind, decode settings). A run
// that decodes writes what it decodes; any later run — another config with the same settings,
// another rank, another machine, a build without media decoders (the GPU build profile) — reads
// it back instead of decoding. Keys come from the bytes of the media file (or, for a directory
// of frames, of every file in it), never from its path, so a moved or copied data set still hits.
//
// Entry files: "omnirm-media-store 1\n", the key (u32 length + bytes), the item's kind (u8), its
// shape (u32 rank + i64 sizes) and its values (f32, little-endian). Written to a temporary name
// and renamed, so a killed writer leaves no partial entry; an entry that does not read back
// exactly (another key under the same name, a short file) counts as absent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "omnirm/data/media_layout.h"

namespace omnirm::data {

struct MediaStoreStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t writes = 0;
};

class MediaStore {
 public:
  // Creates `directory` when missing. Throws UserError naming data.media_store when it cannot.
  explicit MediaStore(std::string directory);

  // The key of one decode: `path`'s content digest (a file, or a directory of frames), the kind
  // and every setting the decoded values depend on (e.g. "size=32"). Throws UserError when the
  // path cannot be read.
  static std::string key_of(const std::string& path, MediaKind kind, const std::string& settings);

  // The stored item for `key` (segment left at 0), or nullopt.
  std::optional<MediaItem> find(const std::string& key);
  // Stores `item` under `key` unless an entry exists. Failing to write is not an error for the
  // run (the item was decoded); it is counted as no write.
  void put(const std::string& key, const MediaItem& item);

  const std::string& directory() const { return directory_; }
  MediaStoreStats stats() const;

 private:
  std::string file_of(const std::string& key) const;

  std::string directory_;
  struct Counters;
  std::shared_ptr<Counters> counters_;
};

}  // namespace omnirm::data
