// A fast, non-cryptographic 64-bit hash of byte content, for cache keys (the in-memory media
// cache, the decoded-media store). Not for security: colliding inputs can be constructed on
// purpose.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace omnirm {

// Incremental: feeding the bytes in any split gives the same value as feeding them at once.
class ContentHasher {
 public:
  explicit ContentHasher(uint64_t seed = 0);
  void update(std::span<const uint8_t> bytes);
  uint64_t finish() const;  // does not change the state; may be called more than once

 private:
  void consume_block(const uint8_t* block);

  uint64_t lanes_[4];
  uint8_t pending_[32];
  size_t pending_size_ = 0;
  uint64_t total_size_ = 0;
};

uint64_t content_hash(std::span<const uint8_t> bytes, uint64_t seed = 0);

// Hash and size of a file's content, read in chunks. Throws omnirm::UserError if unreadable.
struct FileDigest {
  uint64_t hash = 0;
  uint64_t size = 0;
};
FileDigest digest_file(const std::string& path);

// A directory (e.g. of video frames): every regular file's name and content in name order,
// sizes summed. Listing stops after max_files + 1 files: a directory past the limit is
// rejected by its decoder anyway, so the rest is never read.
FileDigest digest_directory(const std::string& path, int64_t max_files);

}  // namespace omnirm
