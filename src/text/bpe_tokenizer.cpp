// Implementation of text/bpe_tokenizer.h: added-token matching, normalisation, regex
// pre-tokenization and the byte-level mapping around the BPE model of bpe_model.h.
#include "omnirm/text/bpe_tokenizer.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_map>

#include "bpe_model.h"
#include "byte_level.h"
#include "omnirm/core/error.h"
#include "omnirm/text/unicode.h"
#include "regex_split.h"
#include "tokenizer_json.h"

namespace omnirm::text {
namespace {

// Finds added tokens in text: at the leftmost position where any starts, the longest one.
class AddedTokenMatcher {
 public:
  struct Match {
    size_t begin = std::string_view::npos;
    size_t length = 0;
    int32_t id = 0;
  };

  void add(std::string content, int32_t id) {
    auto& bucket = by_first_byte_[static_cast<unsigned char>(content[0])];
    bucket.push_back({std::move(content), id});
    std::stable_sort(bucket.begin(), bucket.end(), [](const Entry& a, const Entry& b) {
      return a.content.size() > b.content.size();
    });
    empty_ = false;
  }

  // The first match at or after `from`; begin is npos when there is none.
  Match find(std::string_view text, size_t from) const {
    if (empty_) return {};
    for (size_t at = from; at < text.size(); ++at) {
      const auto& bucket = by_first_byte_[static_cast<unsigned char>(text[at])];
      for (const Entry& entry : bucket) {
        if (text.compare(at, entry.content.size(), entry.content) == 0) {
          return {at, entry.content.size(), entry.id};
        }
      }
    }
    return {};
  }

 private:
  struct Entry {
    std::string content;
    int32_t id = 0;
  };
  std::array<std::vector<Entry>, 256> by_first_byte_;
  bool empty_ = true;
};

struct SplitStep {
  RegexSplitter splitter;
  bool removed = false;
  bool invert = false;
};

}  // namespace

struct BpeTokenizer::State {
  std::string path;
  std::unique_ptr<BpeModel> model;
  bool nfc = false;
  std::vector<SplitStep> splits;
  AddedTokenMatcher raw_added;         // matched before normalisation
  AddedTokenMatcher normalized_added;  // matched in the normalised text
  std::unordered_map<std::string, int32_t> added_ids;
  std::vector<std::string> tokens;  // by id; "" where no token has the id
  std::vector<bool> is_added;       // by id
};

BpeTokenizer::BpeTokenizer(std::unique_ptr<State> state) : state_(std::move(state)) {}
BpeTokenizer::~BpeTokenizer() = default;

std::unique_ptr<BpeTokenizer> BpeTokenizer::load(const std::string& path) {
  TokenizerJson spec = read_tokenizer_json(path);
  auto state = std::make_unique<State>();
  state->path = path;
  state->nfc = spec.nfc;

  int64_t size = 0;
  for (const auto& [token, id] : spec.model.vocab) size = std::max<int64_t>(size, int64_t{id} + 1);
  for (const AddedTokenSpec& added : spec.added_tokens) {
    size = std::max<int64_t>(size, int64_t{added.id} + 1);
  }
  state->tokens.assign(static_cast<size_t>(size), std::string());
  state->is_added.assign(static_cast<size_t>(size), false);
  for (const auto& [token, id] : spec.model.vocab) state->tokens[static_cast<size_t>(id)] = token;

  for (const AddedTokenSpec& added : spec.added_tokens) {
    if (!state->added_ids.emplace(added.content, added.id).second) continue;  // first one wins
    // A normalized token is found, and so decodes, as its normalised form.
    const std::string content = added.normalized && state->nfc ? nfc(added.content) : added.content;
    state->tokens[static_cast<size_t>(added.id)] = content;
    state->is_added[static_cast<size_t>(added.id)] = true;
    if (added.normalized) {
      state->normalized_added.add(content, added.id);
    } else {
      state->raw_added.add(content, added.id);
    }
  }

  for (const SplitSpec& split : spec.splits) {
    try {
      state->splits.push_back(
          {RegexSplitter(split.pattern, split.literal), split.removed, split.invert});
    } catch (const std::invalid_argument& error) {
      throw UserError("tokenizer '" + path + "': " + split.field +
                      ": the pattern does not compile (" + error.what() + ")");
    }
  }
  try {
    state->model = std::make_unique<BpeModel>(std::move(spec.model));
  } catch (const std::invalid_argument& error) {
    throw UserError("tokenizer '" + path + "': model." + error.what() +
                    ": the file is damaged or not a BPE tokenizer.json");
  }
  return std::unique_ptr<BpeTokenizer>(new BpeTokenizer(std::move(state)));
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  std::string repaired;
  if (!is_valid_utf8(text)) {
    repaired = to_valid_utf8(text);
    text = repaired;
  }
  std::vector<int32_t> ids;
  size_t at = 0;
  for (;;) {
    const auto match = state_->raw_added.find(text, at);
    if (match.begin == std::string_view::npos) break;
    encode_text(text.substr(at, match.begin - at), ids);
    ids.push_back(match.id);
    at = match.begin + match.length;
  }
  encode_text(text.substr(at), ids);
  return ids;
}

// A stretch between raw added tokens: normalised, then split at normalized added tokens.
void BpeTokenizer::encode_text(std::string_view text, std::vector<int32_t>& ids) const {
  if (text.empty()) return;
  std::string normalized;
  if (state_->nfc) {
    normalized = nfc(text);
    text = normalized;
  }
  size_t at = 0;
  for (;;) {
    const auto match = state_->normalized_added.find(text, at);
    if (match.begin == std::string_view::npos) break;
    encode_normalized(text.substr(at, match.begin - at), ids);
    ids.push_back(match.id);
    at = match.begin + match.length;
  }
  encode_normalized(text.substr(at), ids);
}

// Normalised text without added tokens: pre-tokenized, then each piece through BPE.
void BpeTokenizer::encode_normalized(std::string_view text, std::vector<int32_t>& ids) const {
  if (text.empty()) return;
  std::vector<std::string_view> pieces = {text};
  std::vector<SplitPiece> split;
  for (const SplitStep& step : state_->splits) {
    std::vector<std::string_view> next;
    for (std::string_view piece : pieces) {
      split.clear();
      step.splitter.split(piece, split);
      for (const SplitPiece& part : split) {
        if (!step.removed || part.matched == step.invert) next.push_back(part.text);
      }
    }
    pieces = std::move(next);
  }
  std::string word;
  for (std::string_view piece : pieces) {
    word.clear();
    byte_level::encode_bytes(piece, word);
    state_->model->encode_word(word, ids);
  }
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw std::runtime_error("tokenizer '" + state_->path + "' cannot decode id " +
                               std::to_string(id) + ": ids run from 0 to " +
                               std::to_string(vocab_size() - 1));
    }
    const std::string& token = state_->tokens[static_cast<size_t>(id)];
    if (state_->is_added[static_cast<size_t>(id)]) {
      bytes += token;
    } else {
      byte_level::decode_token(token, bytes);
    }
  }
  return to_valid_utf8(bytes);
}

int64_t BpeTokenizer::vocab_size() const { return static_cast<int64_t>(state_->tokens.size()); }

int32_t BpeTokenizer::piece_id(std::string_view piece) const {
  const auto found = state_->added_ids.find(std::string(piece));
  if (found == state_->added_ids.end()) {
    throw UserError("tokenizer '" + state_->path + "' has no added token '" + std::string(piece) +
                    "', which omnirm needs as one token: add it to added_tokens in the " +
                    "tokenizer.json (with \"special\": true)");
  }
  return found->second;
}

}  // namespace omnirm::text
