// Implementation of data/bench_corpus.h. Text is generated straight into a line buffer that
// is flushed per record; only the vocabulary and its Zipf table stay in memory.
#include "omnirm/data/bench_corpus.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string_view>
#include <vector>

#include "loader_plan.h"
#include "omnirm/core/error.h"

namespace omnirm::data {
namespace {

constexpr int kVocabularyWords = 30000;
constexpr double kZipfExponent = 1.07;
// Tokens per generated word for a tokenizer trained on this text (about 1.5), used to aim
// at token lengths.
constexpr double kTokensPerWord = 1.5;

constexpr std::array<std::string_view, 48> kSyllables = {
    "ka",  "lo",  "mi",  "ter",  "san", "vo",  "ri", "den", "pa",  "shu", "el",  "mor",
    "ti",  "gan", "be",  "ro",   "nis", "qua", "fe", "lin", "do",  "har", "za",  "wen",
    "cu",  "ble", "ox",  "tra",  "me",  "sol", "ny", "pe",  "gor", "ith", "ve",  "run",
    "ask", "mo",  "lei", "brin", "tu",  "cal", "po", "dra", "fi",  "nor", "sta", "ul"};

class TextSource {
 public:
  explicit TextSource(uint64_t seed) : random_(plan_seed(seed, 101)) {
    PlanRandom word_random(plan_seed(seed, 102));
    words_.reserve(kVocabularyWords);
    for (int i = 0; i < kVocabularyWords; ++i) {
      std::string word;
      // Frequent words are short, as in natural language.
      const uint64_t syllables = 1 + word_random.below(i < 200 ? 2 : (i < 3000 ? 3 : 4));
      for (uint64_t s = 0; s < syllables; ++s)
        word += kSyllables[word_random.below(kSyllables.size())];
      words_.push_back(std::move(word));
    }
    cumulative_.resize(kVocabularyWords);
    double total = 0.0;
    for (int i = 0; i < kVocabularyWords; ++i) {
      total += 1.0 / std::pow(static_cast<double>(i + 1), kZipfExponent);
      cumulative_[i] = total;
    }
    for (double& c : cumulative_) c /= total;
  }

  uint64_t below(uint64_t bound) { return random_.below(bound); }

  // log-uniform in [low, high]
  int64_t log_uniform(double low, double high) {
    const double u = static_cast<double>(random_.next() >> 11) * 0x1.0p-53;
    return static_cast<int64_t>(std::exp(std::log(low) + u * (std::log(high) - std::log(low))));
  }

  // Appends about `tokens` tokens of prose; paragraphs are separated by `paragraph_break`
  // (JSON-escaped newlines by default).
  void append_prose(std::string& out, int64_t tokens, std::string_view paragraph_break = "\\n\\n") {
    const auto words =
        std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(tokens) / kTokensPerWord));
    int64_t in_sentence = 0;
    int64_t sentence_length = 6 + static_cast<int64_t>(below(19));
    int64_t sentences_in_paragraph = 0;
    for (int64_t w = 0; w < words; ++w) {
      if (in_sentence > 0) out += ' ';
      if (below(20) == 0) {
        out += std::to_string(below(10000));
      } else {
        const std::string& word = words_[zipf_index()];
        if (in_sentence == 0) {
          out += static_cast<char>(word[0] - 'a' + 'A');
          out.append(word, 1);
        } else {
          out += word;
        }
      }
      ++in_sentence;
      const bool last = w + 1 == words;
      if (in_sentence == sentence_length || last) {
        const uint64_t end = below(10);
        out += end == 0 ? '?' : (end == 1 ? '!' : '.');
        in_sentence = 0;
        sentence_length = 6 + static_cast<int64_t>(below(19));
        if (++sentences_in_paragraph >= 3 + static_cast<int64_t>(below(4)) && !last) {
          out += paragraph_break;
          sentences_in_paragraph = 0;
        }
      } else if (below(10) == 0) {
        out += ',';
      }
    }
  }

 private:
  size_t zipf_index() {
    const double u = static_cast<double>(random_.next() >> 11) * 0x1.0p-53;
    const auto found = std::lower_bound(cumulative_.begin(), cumulative_.end(), u);
    return std::min<size_t>(static_cast<size_t>(found - cumulative_.begin()), words_.size() - 1);
  }

  PlanRandom random_;
  std::vector<std::string> words_;
  std::vector<double> cumulative_;
};

void append_text_turn(std::string& line, const char* role, TextSource& source, int64_t tokens) {
  line += R"({"role":")";
  line += role;
  line += R"(","content":[{"type":"text","text":")";
  source.append_prose(line, tokens);
  line += R"("}]})";
}

void append_response(std::string& line, const char* key, TextSource& source) {
  line += R"(,")";
  line += key;
  line += R"(":{"content":[{"type":"text","text":")";
  source.append_prose(line, source.log_uniform(30, 600));
  line += R"("}]})";
}

}  // namespace

int64_t write_bench_corpus(const std::string& path, int64_t pairs, uint64_t seed) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw UserError("cannot write the bench corpus '" + path + "'; check the directory");
  TextSource source(seed);
  std::string line;
  int64_t bytes = 0;
  char id[32];
  for (int64_t i = 0; i < pairs; ++i) {
    line.clear();
    std::snprintf(id, sizeof(id), "bench-%07lld", static_cast<long long>(i));
    line += R"({"id":")";
    line += id;
    line += R"(","task":"t2t","criteria":")";
    if (source.below(2) == 0) source.append_prose(line, source.log_uniform(8, 40));
    line += R"(","prompt":[)";
    const int64_t prompt_tokens = source.log_uniform(100, 1000);
    if (source.below(10) == 0) {  // multi-turn: an earlier exchange, then the question
      append_text_turn(line, "user", source, prompt_tokens / 3);
      line += ',';
      append_text_turn(line, "assistant", source, prompt_tokens / 3);
      line += ',';
      append_text_turn(line, "user", source, prompt_tokens / 3);
    } else {
      append_text_turn(line, "user", source, prompt_tokens);
    }
    line += ']';
    append_response(line, "chosen", source);
    append_response(line, "rejected", source);
    line += R"(,"preference":"chosen","margin":0.0,"tags":[]})";
    line += '\n';
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
    bytes += static_cast<int64_t>(line.size());
  }
  out.close();
  if (!out) throw UserError("writing the bench corpus '" + path + "' failed; check the disk");
  return bytes;
}

void write_bench_tokenizer_corpus(const std::string& path, int64_t lines, uint64_t seed) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw UserError("cannot write '" + path + "'; check the directory");
  TextSource source(seed);
  std::string line;
  for (int64_t i = 0; i < lines; ++i) {
    line.clear();
    source.append_prose(line, 60, " ");
    out << line << '\n';
  }
}

}  // namespace omnirm::data
