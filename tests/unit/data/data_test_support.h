// Helpers shared by the data tests: one small tokenizer trained once per test process, and
// canonical pair lines written to scratch files.
#pragma once

#include <string>
#include <vector>

#include "omnirm/text/tokenizer.h"

namespace omnirm::data::testing {

// A sentencepiece model (vocab 400) trained on English-like words, numbers and the chat
// markers; trained on first use, shared by every test of the process.
const text::Tokenizer& shared_tokenizer();

// One canonical record: {"id": id, "prompt": prompt, "chosen": chosen, "rejected": rejected}
// plus `extra` fields (raw JSON members, e.g. R"("preference": "tie")").
std::string pair_line(const std::string& id, const std::string& prompt, const std::string& chosen,
                      const std::string& rejected, const std::string& extra = "");

// `count` distinct valid records with ids "<prefix>-<i>" (i from 0) and prompts of varied length.
std::vector<std::string> numbered_pairs(const std::string& prefix, int count);

// Writes the lines, one per line, to `dir`/`name`; returns the path.
std::string write_lines(const std::string& dir, const std::string& name,
                        const std::vector<std::string>& lines);

}  // namespace omnirm::data::testing
