// Implementation of bpe_model.h. Merging keeps the word's symbols in a linked list and the
// candidate merges in a min-heap keyed by (rank, position); a heap entry whose pair has
// changed since it was pushed is dropped when it comes up. Words of at most
// kMaxCachedWordBytes are cached in shards, each emptied when it fills.
#include "bpe_model.h"

#include <functional>
#include <queue>
#include <stdexcept>

namespace omnirm::text {
namespace {

constexpr size_t kCacheShards = 16;
constexpr size_t kShardCapacity = 8192;
constexpr size_t kMaxCachedWordBytes = 256;

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

struct Symbol {
  int32_t id = 0;
  int32_t prev = -1;  // index of the previous live symbol, -1 at the start
  int32_t next = -1;  // index of the next live symbol, -1 at the end
  bool alive = true;
};

struct Candidate {
  int32_t rank = 0;
  int32_t pos = 0;  // index of the left symbol
  int32_t id = 0;   // the merged symbol's id
};

// Orders the heap so that the lowest rank, then the lowest position, comes out first.
struct LaterCandidate {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.pos > b.pos;
  }
};

}  // namespace

struct BpeModel::CacheShard {
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int32_t>> words;
};

BpeModel::BpeModel(BpeModelSpec spec)
    : vocab_(std::move(spec.vocab)),
      fuse_unk_(spec.fuse_unk),
      ignore_merges_(spec.ignore_merges),
      cache_(std::make_unique<CacheShard[]>(kCacheShards)) {
  const auto id_of = [&](const std::string& token, size_t index) {
    const auto found = vocab_.find(token);
    if (found == vocab_.end()) {
      throw std::invalid_argument("merges[" + std::to_string(index) + "]: '" + token +
                                  "' is not in the vocabulary");
    }
    return found->second;
  };
  merges_.reserve(spec.merges.size());
  for (size_t i = 0; i < spec.merges.size(); ++i) {
    const auto& [left, right] = spec.merges[i];
    const int32_t left_id = id_of(left, i);
    const int32_t right_id = id_of(right, i);
    const int32_t merged_id = id_of(left + right, i);
    // A pair listed twice keeps its last rank, as HF tokenizers' merge map does.
    merges_.insert_or_assign(pair_key(left_id, right_id),
                             MergeTarget{static_cast<int32_t>(i), merged_id});
  }
  if (spec.unk_token) {
    const auto found = vocab_.find(*spec.unk_token);
    if (found == vocab_.end()) {
      throw std::invalid_argument("unk_token '" + *spec.unk_token + "' is not in the vocabulary");
    }
    unk_id_ = found->second;
  }
}

BpeModel::~BpeModel() = default;

const BpeModel::MergeTarget* BpeModel::find_merge(int32_t left, int32_t right) const {
  const auto found = merges_.find(pair_key(left, right));
  return found == merges_.end() ? nullptr : &found->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    const auto whole = vocab_.find(std::string(word));
    if (whole != vocab_.end()) {
      ids.push_back(whole->second);
      return;
    }
  }
  if (word.size() > kMaxCachedWordBytes) {
    merge_word(word, ids);
    return;
  }
  std::string key(word);
  CacheShard& shard = cache_[std::hash<std::string>{}(key) % kCacheShards];
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    const auto found = shard.words.find(key);
    if (found != shard.words.end()) {
      ids.insert(ids.end(), found->second.begin(), found->second.end());
      return;
    }
  }
  std::vector<int32_t> word_ids;
  merge_word(word, word_ids);
  ids.insert(ids.end(), word_ids.begin(), word_ids.end());
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.words.size() >= kShardCapacity) shard.words.clear();
  shard.words.emplace(std::move(key), std::move(word_ids));
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& ids) const {
  // One symbol per character; characters outside the vocabulary become the unknown token
  // (fused when asked) or, without one, are dropped.
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  bool last_was_unk = false;
  for (size_t at = 0; at < word.size();) {
    const size_t length = utf8_length(static_cast<unsigned char>(word[at]));
    const auto found = vocab_.find(std::string(word.substr(at, length)));
    at += length;
    if (found != vocab_.end()) {
      symbols.push_back({found->second});
      last_was_unk = false;
    } else if (unk_id_) {
      if (!(fuse_unk_ && last_was_unk)) symbols.push_back({*unk_id_});
      last_was_unk = true;
    }
  }
  const auto count = static_cast<int32_t>(symbols.size());
  for (int32_t i = 0; i < count; ++i) {
    symbols[i].prev = i - 1;
    symbols[i].next = i + 1 < count ? i + 1 : -1;
  }

  std::priority_queue<Candidate, std::vector<Candidate>, LaterCandidate> heap;
  const auto push_pair = [&](int32_t left) {
    const int32_t right = symbols[left].next;
    if (right < 0) return;
    if (const MergeTarget* target = find_merge(symbols[left].id, symbols[right].id)) {
      heap.push({target->rank, left, target->id});
    }
  };
  for (int32_t i = 0; i + 1 < count; ++i) push_pair(i);

  while (!heap.empty()) {
    const Candidate top = heap.top();
    heap.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const MergeTarget* target = find_merge(left.id, right.id);
    if (target == nullptr || target->id != top.id) continue;  // the pair has changed since
    left.id = top.id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (const Symbol& symbol : symbols) {
    if (symbol.alive) ids.push_back(symbol.id);
  }
}

}  // namespace omnirm::text
