// The BPE model of a byte-level tokenizer: a word (one pre-tokenized piece, spelled in the
// byte-level alphabet) starts as one symbol per character and is merged pair by pair, always
// the pair of lowest merge rank first and, among equal ranks, the leftmost — the order HF
// tokenizers' BPE model uses. Results are remembered per word (a bounded, thread-safe cache).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace omnirm::text {

struct BpeModelSpec {
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::optional<std::string> unk_token;  // stands for characters missing from the vocabulary
  bool fuse_unk = false;                 // consecutive unknown characters give one unk id
  bool ignore_merges = false;            // a word found whole in the vocabulary is one id
};

class BpeModel {
 public:
  // Throws std::invalid_argument naming the merge (by index) or token that does not fit the
  // vocabulary.
  explicit BpeModel(BpeModelSpec spec);
  ~BpeModel();

  // Appends the ids of one word to `ids`. Safe to call from several threads at once.
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;

  const std::unordered_map<std::string, int32_t>& vocab() const { return vocab_; }

 private:
  struct MergeTarget {
    int32_t rank = 0;
    int32_t id = 0;  // the merged symbol's id
  };

  void merge_word(std::string_view word, std::vector<int32_t>& ids) const;
  const MergeTarget* find_merge(int32_t left, int32_t right) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<uint64_t, MergeTarget> merges_;  // key: left id << 32 | right id
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;

  struct CacheShard;
  std::unique_ptr<CacheShard[]> cache_;
};

}  // namespace omnirm::text
