// Implementation of data/token_cache.h: segments are cut before every run of spaces that
// follows a non-space character (and after newlines) and looked up in an open-addressing
// table of 8-byte slots (linear probing, at most half full). Each slot points at a record in
// one flat array: a header word (key length, id count), the key's bytes, then the ids, so a
// hit reads two places in memory.
#include "omnirm/data/token_cache.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace omnirm::data {
namespace {

constexpr size_t kInitialSlots = 1024;

// How far ahead of the current segment its successors' slots and records are prefetched.
constexpr size_t kSlotsAhead = 16;
constexpr size_t kRecordsAhead = 8;

// Segments longer than this are tokenized directly, not remembered (long runs without
// spaces are rarely repeated and would fill the cache).
constexpr size_t kMaxCachedSegmentBytes = 64;

uint64_t load64(const char* bytes) {
  uint64_t word = 0;
  std::memcpy(&word, bytes, 8);
  return word;
}

uint32_t load32(const char* bytes) {
  uint32_t word = 0;
  std::memcpy(&word, bytes, 4);
  return word;
}

// A fast 64-bit hash of a short key; its low bits pick the slot. The tail is read with
// loads from the key itself (overlapping where needed), never through a stack copy.
uint64_t hash_segment(std::string_view key) {
  uint64_t hash = 0x9E3779B97F4A7C15ull ^ key.size();
  const char* bytes = key.data();
  size_t left = key.size();
  while (left >= 8) {
    hash = (hash ^ load64(bytes)) * 0xBF58476D1CE4E5B9ull;
    hash ^= hash >> 29;
    bytes += 8;
    left -= 8;
  }
  uint64_t tail = 0;
  if (left >= 4) {
    tail = load32(bytes) | (uint64_t{load32(bytes + left - 4)} << 32);
  } else if (left > 0) {
    tail = static_cast<unsigned char>(bytes[0]) |
           (uint64_t{static_cast<unsigned char>(bytes[left / 2])} << 8) |
           (uint64_t{static_cast<unsigned char>(bytes[left - 1])} << 16);
  }
  hash = (hash ^ tail) * 0x94D049BB133111EBull;
  hash ^= hash >> 32;
  hash *= 0xD6E8FEB86659FD93ull;
  hash ^= hash >> 32;
  return hash;
}

// Whether `stored` (a record's key bytes) begins with `key`.
bool same_key(const char* stored, std::string_view key) {
  size_t at = 0;
  for (; at + 8 <= key.size(); at += 8) {
    if (load64(stored + at) != load64(key.data() + at)) return false;
  }
  for (; at < key.size(); ++at) {
    if (stored[at] != key[at]) return false;
  }
  return true;
}

// The slot's check value: the hash's high half, never 0 (0 marks an empty slot).
uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32) | 1u; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The end of the segment starting at `begin`: past the leading spaces, up to the next space;
// with `cuts.newlines` also just past a run of newlines; with `cuts.digits` every digit is a
// segment of its own.
size_t segment_end(std::string_view text, size_t begin, TokenCacheCuts cuts) {
  if (cuts.digits && is_digit(text[begin])) return begin + 1;
  size_t end = begin;
  while (end < text.size() && text[end] == ' ') ++end;
  while (end < text.size() && text[end] != ' ') {
    if (cuts.digits && is_digit(text[end])) return end;
    if (cuts.newlines && text[end] == '\n') {
      while (end < text.size() && text[end] == '\n') ++end;
      return end;
    }
    ++end;
  }
  return end;
}

// How sentencepiece decodes its unknown piece; not a piece of text.
constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";

// Texts whose tokenization must equal their segments' tokenizations for the cuts to be
// exact: leading spaces, runs of spaces and newlines, special tokens.
constexpr std::array<std::string_view, 10> kProbes = {"a b",
                                                      "x  y z",
                                                      " lead",
                                                      "line\n next",
                                                      "<|im_end|>\n<|im_start|>user\n hi",
                                                      "1 23  456",
                                                      "end.\n\nNew",
                                                      "a\nb\n\n\nc d",
                                                      "abc123def 45.6",
                                                      "v2 x9y (7) 1,000"};

// Whether tokenizing each segment alone gives the tokenization of every probe.
bool probes_agree(const text::Tokenizer& tokenizer, TokenCacheCuts cuts) {
  for (std::string_view probe : kProbes) {
    std::vector<int32_t> pieced;
    for (size_t begin = 0; begin < probe.size();) {
      const size_t end = segment_end(probe, begin, cuts);
      const std::vector<int32_t> ids = tokenizer.encode(probe.substr(begin, end - begin));
      pieced.insert(pieced.end(), ids.begin(), ids.end());
      begin = end;
    }
    if (pieced != tokenizer.encode(probe)) return false;
  }
  return true;
}

}  // namespace

TokenCacheCuts TokenCache::analyse(const text::Tokenizer& tokenizer) {
  // A piece may cross a cut only if it holds a space after a non-space, a newline followed
  // by another character, or a digit beside another character.
  bool spaces = true;
  bool newlines = true;
  bool digits = true;
  for (int64_t id = 0; id < tokenizer.vocab_size(); ++id) {
    const std::string piece = tokenizer.decode({static_cast<int32_t>(id)});
    if (piece == kUnknownSurface) continue;
    const size_t first_non_space = piece.find_first_not_of(' ');
    if (first_non_space != std::string::npos &&
        piece.find(' ', first_non_space) != std::string::npos) {
      spaces = false;
    }
    for (size_t at = piece.find('\n'); at != std::string::npos; at = piece.find('\n', at + 1)) {
      if (at + 1 < piece.size() && piece[at + 1] != '\n') newlines = false;
    }
    if (piece.size() > 1 && std::any_of(piece.begin(), piece.end(), is_digit)) digits = false;
  }
  // Models that add a dummy prefix or squeeze spaces tokenize a segment differently alone.
  TokenCacheCuts cuts;
  cuts.spaces = spaces && probes_agree(tokenizer, TokenCacheCuts{true, false, false});
  cuts.newlines =
      cuts.spaces && newlines && probes_agree(tokenizer, TokenCacheCuts{true, true, false});
  cuts.digits =
      cuts.spaces && digits && probes_agree(tokenizer, TokenCacheCuts{true, cuts.newlines, true});
  return cuts;
}

bool TokenCache::segmentable(const text::Tokenizer& tokenizer) { return analyse(tokenizer).spaces; }

TokenCache::TokenCache(const text::Tokenizer& tokenizer, int64_t max_entries)
    : tokenizer_(tokenizer), max_entries_(max_entries) {
  cuts_ = analyse(tokenizer);
  clear();
}

void TokenCache::clear() {
  slots_.assign(kInitialSlots, Slot{});
  entries_ = 0;
  records_.clear();
}

void TokenCache::remember(uint64_t hash, std::string_view segment,
                          const std::vector<int32_t>& ids) {
  const size_t key_words = (segment.size() + 3) / 4;
  const size_t record_words = 1 + key_words + ids.size();
  if (entries_ >= max_entries_ || records_.size() + record_words > UINT32_MAX) clear();
  if (static_cast<size_t>(entries_ + 1) * 2 > slots_.size()) {  // grow, keeping it half empty
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.tag == 0) continue;
      size_t at = hash_segment(record_key(slot.record)) & mask;
      while (slots_[at].tag != 0) at = (at + 1) & mask;
      slots_[at] = slot;
    }
  }
  const size_t mask = slots_.size() - 1;
  size_t at = hash & mask;
  while (slots_[at].tag != 0) at = (at + 1) & mask;
  slots_[at] = Slot{tag_of(hash), static_cast<uint32_t>(records_.size())};

  const size_t first = records_.size();
  records_.resize(first + record_words, 0);
  records_[first] = static_cast<int32_t>(segment.size() | (ids.size() << 16));
  std::memcpy(&records_[first + 1], segment.data(), segment.size());
  std::copy(ids.begin(), ids.end(),
            records_.begin() + static_cast<std::ptrdiff_t>(first + 1 + key_words));
  ++entries_;
}

std::string_view TokenCache::record_key(uint32_t record) const {
  const auto header = static_cast<uint32_t>(records_[record]);
  return std::string_view(reinterpret_cast<const char*>(&records_[record + 1]), header & 0xFFFF);
}

void TokenCache::encode_segment(std::string_view segment, uint64_t hash,
                                std::vector<int32_t>& ids) {
  if (segment.size() > kMaxCachedSegmentBytes) {
    const std::vector<int32_t> direct = tokenizer_.encode(segment);
    ids.insert(ids.end(), direct.begin(), direct.end());
    return;
  }
  const uint32_t tag = tag_of(hash);
  const size_t key_words = (segment.size() + 3) / 4;
  const size_t mask = slots_.size() - 1;
  for (size_t at = hash & mask; slots_[at].tag != 0; at = (at + 1) & mask) {
    const Slot slot = slots_[at];
    if (slot.tag != tag) continue;
    const auto header = static_cast<uint32_t>(records_[slot.record]);
    const int32_t* stored = &records_[slot.record + 1];
    if ((header & 0xFFFF) == segment.size() &&
        same_key(reinterpret_cast<const char*>(stored), segment)) {
      ++hits_;
      ids.insert(ids.end(), stored + key_words, stored + key_words + (header >> 16));
      return;
    }
  }
  ++misses_;
  const std::vector<int32_t> fresh = tokenizer_.encode(segment);
  ids.insert(ids.end(), fresh.begin(), fresh.end());
  if (fresh.size() <= 0xFFFF) remember(hash, segment, fresh);
}

void TokenCache::encode_append(std::string_view text, std::vector<int32_t>& ids) {
  if (!cuts_.spaces) {
    const std::vector<int32_t> direct = tokenizer_.encode(text);
    ids.insert(ids.end(), direct.begin(), direct.end());
    return;
  }
  // Cut and hash first, then look up with the slots and records of segments a little ahead
  // already on their way into the cache: a lookup waits on memory, not on the one before.
  pending_.clear();
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = segment_end(text, begin, cuts_);
    const std::string_view segment = text.substr(begin, end - begin);
    pending_.push_back(Pending{
        begin, end - begin, segment.size() > kMaxCachedSegmentBytes ? 0 : hash_segment(segment)});
    begin = end;
  }
  const size_t mask = slots_.size() - 1;
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (i + kSlotsAhead < pending_.size()) {
      __builtin_prefetch(&slots_[pending_[i + kSlotsAhead].hash & mask]);
    }
    if (i + kRecordsAhead < pending_.size()) {
      const Slot& slot = slots_[pending_[i + kRecordsAhead].hash & mask];
      if (slot.tag != 0) __builtin_prefetch(&records_[slot.record]);
    }
    encode_segment(text.substr(pending_[i].begin, pending_[i].length), pending_[i].hash, ids);
  }
}

std::vector<int32_t> TokenCache::encode(std::string_view text) {
  std::vector<int32_t> ids;
  encode_append(text, ids);
  return ids;
}

}  // namespace omnirm::data
