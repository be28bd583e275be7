// Implementation of serve_test_support.h.
#include "serve_test_support.h"

#include <ATen/ATen.h>

#include <memory>

#include "support/test_support.h"

namespace omnirm::serve::testing {
namespace {

std::string corpus() {
  const std::vector<std::string> words = {
      "the",    "answer",  "is",     "helpful",  "polite", "short",  "long", "reply",
      "please", "explain", "why",    "sky",      "blue",   "water",  "cold", "warm",
      "a",      "an",      "answer", "question", "judge",  "prefer", "safe", "honest"};
  std::string text;
  for (int line = 0; line < 300; ++line) {
    for (int i = 0; i < 6 + line % 7; ++i) {
      if (i > 0) text += ' ';
      text += words[(line * 5 + i * 7) % words.size()];
    }
    text += line % 3 == 0 ? "?\n" : ".\n";
  }
  return text;
}

}  // namespace

const text::Tokenizer& test_tokenizer() {
  static const std::unique_ptr<text::Tokenizer> tokenizer = [] {
    const std::string dir = omnirm::testing::make_temp_dir("serve-tok");
    omnirm::testing::write_file(dir + "/corpus.txt", corpus());
    text::TokenizerTrainOptions options;
    options.corpus_path = dir + "/corpus.txt";
    options.model_prefix = dir + "/tok";
    options.vocab_size = 300;
    text::train_tokenizer(options);
    return std::make_unique<text::Tokenizer>(text::Tokenizer::load(dir + "/tok.model"));
  }();
  return *tokenizer;
}

TokenizedRequest random_request(int64_t vocab, int64_t prompt,
                                const std::vector<int64_t>& responses) {
  auto ids = [&](int64_t n) {
    const at::Tensor t = at::randint(vocab, {n}, at::kInt);
    return std::vector<int32_t>(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + n);
  };
  TokenizedRequest request;
  request.prompt = ids(prompt);
  for (const int64_t length : responses) request.responses.push_back(ids(length));
  return request;
}

BatchScorer GatedScorer::scorer() {
  return [this](const std::vector<const TokenizedRequest*>& requests) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      batches_.emplace_back();
      for (const TokenizedRequest* r : requests) batches_.back().push_back(r->prompt);
      changed_.notify_all();
      changed_.wait(lock, [this] { return open_; });
    }
    return real_(requests);
  };
}

void GatedScorer::open() {
  std::lock_guard<std::mutex> lock(mutex_);
  open_ = true;
  changed_.notify_all();
}

void GatedScorer::wait_for_batches(size_t count) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return batches_.size() >= count; });
}

std::vector<std::vector<std::vector<int32_t>>> GatedScorer::batches() {
  std::lock_guard<std::mutex> lock(mutex_);
  return batches_;
}

}  // namespace omnirm::serve::testing
