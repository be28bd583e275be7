// A synthetic text preference corpus with realistic shapes, for measuring the loader: words
// drawn with Zipf frequencies from a 30,000-word invented vocabulary, sentences of 6 to 24
// words with punctuation, numbers and paragraph breaks; prompts of about 100 to 1000 tokens
// (log-uniform), responses of about 30 to 600, a criteria sentence on half the pairs, a
// multi-turn prompt on one in ten. The same (pairs, seed) gives the same bytes, and a
// corpus is a prefix of any larger one with the same seed. Written as it is generated, so
// memory does not grow with the corpus.
#pragma once

#include <cstdint>
#include <string>

namespace omnirm::data {

// Writes `pairs` canonical records to `path`; returns the bytes written.
int64_t write_bench_corpus(const std::string& path, int64_t pairs, uint64_t seed);

// Writes `lines` lines of the same kind of text, for training a tokenizer.
void write_bench_tokenizer_corpus(const std::string& path, int64_t lines, uint64_t seed);

}  // namespace omnirm::data
