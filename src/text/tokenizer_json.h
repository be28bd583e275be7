// Reading an HF tokenizers `tokenizer.json` into what omnirm's byte-level BPE tokenizer
// runs. Supported: model BPE (vocab, merges as "a b" strings or [a, b] pairs, unk_token,
// fuse_unk, ignore_merges); added_tokens (special or not, normalized or not); normalizer
// null or NFC; pre_tokenizer ByteLevel, alone or last in a Sequence after Split steps
// (Regex or String pattern, Isolated or Removed); decoder ByteLevel; post_processor null or
// ByteLevel. Anything else is rejected with a one-line UserError naming the field.
// truncation and padding are batch options of HF's tokenizer and are ignored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpe_model.h"

namespace omnirm::text {

struct AddedTokenSpec {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool normalized = false;  // matched in the normalised text (else in the raw text)
};

struct SplitSpec {
  std::string pattern;
  bool literal = false;  // pattern is a String, not a Regex
  bool removed = false;  // behavior Removed: only the stretches between matches are kept
  bool invert = false;   // the pattern marks what to keep (with Removed)
  std::string field;     // where it came from, e.g. "pre_tokenizer.pretokenizers[0]"
};

struct TokenizerJson {
  BpeModelSpec model;
  std::vector<AddedTokenSpec> added_tokens;
  bool nfc = false;
  std::vector<SplitSpec> splits;  // applied in order, before the byte-level mapping
};

// Reads and checks `path`; throws UserError naming the path and the field.
TokenizerJson read_tokenizer_json(const std::string& path);

}  // namespace omnirm::text
