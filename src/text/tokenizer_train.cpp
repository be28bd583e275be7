// Training a sentencepiece model for omnirm. The options make the tokenizer lossless on any
// UTF-8 text: identity normalisation, whitespace kept as written (no dummy prefix, runs of
// spaces allowed as pieces), byte fallback for characters outside the vocabulary, digits
// split one by one, and the chat / media special tokens as user-defined pieces. Training is
// deterministic: the seed and a fixed thread count (not the machine's core count) decide it.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <unordered_map>

#include "omnirm/core/error.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::text {
namespace {

// The unigram trainer splits its work by thread index and merges the parts in index order,
// so a fixed count gives the same model on every machine.
constexpr int kTrainerThreads = 4;

// sentencepiece's random generator reserves the all-ones seed for "seed from the device".
constexpr unsigned int kReservedSeed = ~0u;

// Hands the corpus to sentencepiece line by line, exactly as written (no parsing of the
// path as a comma-separated list, no trimming).
class CorpusLines : public sentencepiece::SentenceIterator {
 public:
  explicit CorpusLines(const std::string& path) : stream_(path), opened_(stream_.is_open()) {
    Next();
  }

  bool done() const override { return done_; }
  void Next() override { done_ = !std::getline(stream_, line_); }
  const std::string& value() const override { return line_; }
  sentencepiece::util::Status status() const override {
    if (!opened_) {
      return sentencepiece::util::Status(sentencepiece::util::StatusCode::kPermissionDenied,
                                         "cannot open the corpus");
    }
    if (stream_.bad()) {
      return sentencepiece::util::Status(sentencepiece::util::StatusCode::kDataLoss,
                                         "read error in the corpus");
    }
    return sentencepiece::util::Status();
  }

 private:
  std::ifstream stream_;
  bool opened_ = false;
  std::string line_;
  bool done_ = false;
};

std::string join_with_commas(const std::vector<std::string>& items) {
  std::string joined;
  for (const std::string& item : items) {
    if (!joined.empty()) {
      joined += ',';
    }
    joined += item;
  }
  return joined;
}

std::string one_line(std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return message;
}

}  // namespace

void train_tokenizer(const TokenizerTrainOptions& options) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(options.corpus_path, error)) {
    throw UserError("tokenizer corpus '" + options.corpus_path +
                    "' does not exist: pass a text file with one sentence per line");
  }
  if (options.model_type != "unigram" && options.model_type != "bpe") {
    throw UserError("tokenizer model type '" + options.model_type +
                    "' is not supported: " + "use unigram or bpe");
  }
  if (options.vocab_size < 1) {
    throw UserError("tokenizer vocab_size is " + std::to_string(options.vocab_size) +
                    ": set a positive vocabulary size");
  }

  const std::unordered_map<std::string, std::string> arguments = {
      {"model_prefix", options.model_prefix},
      {"model_type", options.model_type},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"hard_vocab_limit", "false"},
      {"character_coverage", "1.0"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      {"allow_whitespace_only_pieces", "true"},
      {"split_digits", "true"},
      {"byte_fallback", "true"},
      {"user_defined_symbols", join_with_commas(special_tokens())},
      {"num_threads", std::to_string(kTrainerThreads)},
      {"minloglevel", "2"},
  };

  unsigned int seed = static_cast<unsigned int>(options.seed);
  if (seed == kReservedSeed) {
    seed = 0;
  }
  sentencepiece::SetRandomGeneratorSeed(seed);

  CorpusLines corpus(options.corpus_path);
  const auto status = sentencepiece::SentencePieceTrainer::Train(arguments, &corpus);
  if (!status.ok()) {
    throw UserError("training a tokenizer from '" + options.corpus_path + "' failed: " +
                    one_line(status.ToString()) + ": check the corpus and the options");
  }
}

}  // namespace omnirm::text
