// Synthetic text-to-text preference pairs. Each pair is one of:
//  - a style pair: one prompt, two answers with the same facts rendered at the two poles of
//    one attribute (length, tone, format, certainty); the criteria names the wanted pole.
//    About half of all style pairs come as "criteria_flip" twins: the same prompt and
//    answers under a criteria of the opposite pole, so chosen and rejected swap; single
//    style pairs lean to each attribute's usual pole (see kUsualPoleNumerator);
//  - a quality pair (about 30%): the polite on-topic answer beats a rude or refusing one
//    under a criteria-neutral request.
// Everything is drawn from SynthRandom, so one seed gives the same records everywhere.
#include "synth_t2t.h"

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "omnirm/data/synth_random.h"
#include "omnirm/data/synth_template.h"
#include "synth_t2t_vocabulary.h"

namespace omnirm::data {
namespace {

namespace vocab = t2t_vocabulary;

using Slots = std::vector<std::pair<std::string_view, std::string>>;

// Random streams of one seed: the split layout, then one stream per split.
constexpr uint64_t kSplitLayoutStream = 0;
constexpr uint64_t kTrainStream = 1;
constexpr uint64_t kEvalStream = 2;

// A style draw becomes a twin with probability 1/3 (4/3 pairs per draw on average), so about
// half of all style pairs carry the criteria_flip tag. A draw is a quality pair with
// probability 4/11, which makes quality pairs 30% of all pairs:
// (4/11) / (4/11 + (7/11) * (4/3)) = 0.3.
constexpr uint64_t kTwinNumerator = 1;
constexpr uint64_t kTwinDenominator = 3;
constexpr uint64_t kQualityNumerator = 4;
constexpr uint64_t kQualityDenominator = 11;

// Outside flip twins, the criteria ask for an attribute's usual pole (its first pole for
// even attributes, its second for odd ones) 3 times in 4, as real preference data leans
// one way by default; flip twins stay balanced and can only be judged through the criteria.
constexpr uint64_t kUsualPoleNumerator = 3;
constexpr uint64_t kUsualPoleDenominator = 4;

constexpr int kMinFillerSentences = 2;
constexpr int kMaxFillerSentences = 4;

struct Combo {
  size_t category = 0;
  size_t topic = 0;
  size_t question = 0;
};

// Facts about one topic shared by both answers of a pair.
struct Content {
  std::string topic;
  std::string fact1;
  std::string fact2;
  std::string example;
};

std::string capitalize(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = char(text[0] - 'a' + 'A');
  return text;
}

// Replaces every "{name}" of `pattern` by its slot value; a slot missing from `slots` is a
// bug in the templates.
std::string fill(std::string_view pattern, const Slots& slots) {
  return data::fill_template(pattern, slots);
}

// A template with its slots removed: the fixed words a tokenizer must cover.
std::string strip_slots(std::string_view pattern) {
  std::string out;
  bool in_slot = false;
  for (char c : pattern) {
    if (c == '{') {
      in_slot = true;
    } else if (c == '}') {
      in_slot = false;
    } else if (!in_slot) {
      if (c == '\n') c = ' ';
      if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string topic_phrase(const Combo& combo) {
  return std::string(vocab::kCategories[combo.category].topics[combo.topic]);
}

// For each topic two questions, half the list apart and shifted by a seed-dependent offset,
// belong to eval; the rest to train. Every topic and every question appears in both splits.
bool is_eval_combo(size_t topic_index, size_t question, size_t offset) {
  const size_t count = vocab::kQuestions.size();
  const size_t first = (topic_index + offset) % count;
  return question == first || question == (first + count / 2) % count;
}

std::vector<Combo> split_combos(bool eval, size_t offset) {
  std::vector<Combo> combos;
  size_t topic_index = 0;
  for (size_t category = 0; category < vocab::kCategories.size(); ++category) {
    for (size_t topic = 0; topic < vocab::kCategories[category].topics.size(); ++topic) {
      for (size_t question = 0; question < vocab::kQuestions.size(); ++question) {
        if (is_eval_combo(topic_index, question, offset) == eval) {
          combos.push_back(Combo{category, topic, question});
        }
      }
      ++topic_index;
    }
  }
  return combos;
}

Example make_example(std::string criteria, std::string prompt, std::string chosen,
                     std::string rejected, std::vector<std::string> tags) {
  Example example;
  example.task = "t2t";
  example.criteria = std::move(criteria);
  example.prompt = {Turn{"user", {ContentPart{"text", std::move(prompt), ""}}}};
  example.chosen = {ContentPart{"text", std::move(chosen), ""}};
  example.rejected = {ContentPart{"text", std::move(rejected), ""}};
  example.tags = std::move(tags);
  return example;
}

// Draws the pairs of one split from its own combinations and random stream.
class SplitGenerator {
 public:
  SplitGenerator(std::vector<Combo> combos, SynthRandom random)
      : combos_(std::move(combos)), random_(random) {}

  std::vector<Example> generate(int64_t count, const std::string& split) {
    std::vector<Example> records;
    records.reserve(static_cast<size_t>(count));
    while (static_cast<int64_t>(records.size()) < count) {
      const Combo& combo = random_.pick(combos_);
      if (random_.chance(kQualityNumerator, kQualityDenominator)) {
        records.push_back(quality_pair(combo));
        continue;
      }
      const bool room_for_twin = count - static_cast<int64_t>(records.size()) >= 2;
      const bool twin = room_for_twin && random_.chance(kTwinNumerator, kTwinDenominator);
      append_style_pairs(combo, twin, records);
    }
    for (size_t i = 0; i < records.size(); ++i) {
      char number[32];
      std::snprintf(number, sizeof(number), "%06lld", static_cast<long long>(i + 1));
      records[i].id = "t2t-" + split + "-" + number;
    }
    return records;
  }

 private:
  // Context paragraph of 2 to 4 distinct filler sentences, a blank line, the question.
  std::string make_prompt(const Combo& combo) {
    const std::string topic = topic_phrase(combo);
    std::vector<size_t> order(vocab::kFillerSentences.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    const int sentences =
        kMinFillerSentences +
        static_cast<int>(random_.below(kMaxFillerSentences - kMinFillerSentences + 1));
    std::string prompt;
    for (int i = 0; i < sentences; ++i) {
      // Partial Fisher-Yates: order[i] becomes a not yet used sentence.
      const size_t j = i + random_.below(order.size() - i);
      std::swap(order[i], order[j]);
      const std::string people(random_.pick(vocab::kPeople));
      const Slots slots = {{"t", topic},
                           {"T", capitalize(topic)},
                           {"people", people},
                           {"People", capitalize(people)},
                           {"place", std::string(random_.pick(vocab::kPlaces))},
                           {"time", std::string(random_.pick(vocab::kTimes))},
                           {"quality", std::string(random_.pick(vocab::kQualities))}};
      if (i > 0) prompt += ' ';
      prompt += fill(vocab::kFillerSentences[order[i]], slots);
    }
    prompt += "\n\n";
    prompt += fill(vocab::kQuestions[combo.question], {{"t", topic}});
    return prompt;
  }

  Content make_content(const Combo& combo) {
    const vocab::TopicCategory& category = vocab::kCategories[combo.category];
    Content content;
    content.topic = topic_phrase(combo);
    const Slots topic_slot = {{"t", content.topic}};
    const size_t count = category.facts.size();
    const size_t first = random_.below(count);
    const size_t second = (first + 1 + random_.below(count - 1)) % count;
    content.fact1 = fill(category.facts[first], topic_slot);
    content.fact2 = fill(category.facts[second], topic_slot);
    content.example = fill(random_.pick(category.examples), topic_slot);
    return content;
  }

  std::string render(std::string_view pattern, const Content& content) {
    return fill(pattern, {{"t", content.topic},
                          {"f1", content.fact1},
                          {"F1", capitalize(content.fact1)},
                          {"f2", content.fact2},
                          {"F2", capitalize(content.fact2)},
                          {"ex", content.example}});
  }

  // One style pair, or a twin of pairs whose criteria ask for opposite poles.
  void append_style_pairs(const Combo& combo, bool twin, std::vector<Example>& records) {
    const size_t attribute_index = random_.below(vocab::kStyleAttributes.size());
    const vocab::StyleAttribute& attribute = vocab::kStyleAttributes[attribute_index];
    const std::string prompt = make_prompt(combo);
    const Content content = make_content(combo);
    const std::string answers[2] = {render(random_.pick(attribute.poles[0].responses), content),
                                    render(random_.pick(attribute.poles[1].responses), content)};
    const size_t usual_pole = attribute_index % 2;
    const size_t wanted =
        twin ? random_.below(2)
             : (random_.chance(kUsualPoleNumerator, kUsualPoleDenominator) ? usual_pole
                                                                           : 1 - usual_pole);
    std::vector<std::string> tags = {"style", std::string(attribute.tag)};
    if (twin) tags.push_back("criteria_flip");

    records.push_back(make_example(std::string(random_.pick(attribute.poles[wanted].criteria)),
                                   prompt, answers[wanted], answers[1 - wanted], tags));
    if (twin) {
      records.push_back(
          make_example(std::string(random_.pick(attribute.poles[1 - wanted].criteria)), prompt,
                       answers[1 - wanted], answers[wanted], tags));
    }
  }

  Example quality_pair(const Combo& combo) {
    const std::string prompt = make_prompt(combo);
    const Content content = make_content(combo);
    const std::string criteria(random_.pick(vocab::kQualityCriteria));
    const std::string chosen = render(random_.pick(vocab::kHelpfulResponses), content);
    const std::string rejected = render(random_.pick(vocab::kHarmfulResponses), content);
    return make_example(criteria, prompt, chosen, rejected, {"quality"});
  }

  std::vector<Combo> combos_;
  SynthRandom random_;
};

// Collects distinct single-line texts in first-seen order.
class CorpusLines {
 public:
  void add(std::string_view text) {
    std::string line(text);
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    if (line.empty() || !seen_.insert(line).second) return;
    lines_.push_back(std::move(line));
  }
  void add_template(std::string_view pattern) { add(strip_slots(pattern)); }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  std::unordered_set<std::string> seen_;
  std::vector<std::string> lines_;
};

void add_records(const std::vector<Example>& records, CorpusLines& corpus) {
  for (const Example& example : records) {
    corpus.add(example.criteria);
    for (const Turn& turn : example.prompt) corpus.add(text_of(turn.content));
    corpus.add(text_of(example.chosen));
    corpus.add(text_of(example.rejected));
  }
}

void add_vocabulary(CorpusLines& corpus) {
  for (const vocab::TopicCategory& category : vocab::kCategories) {
    corpus.add(category.name);
    for (std::string_view topic : category.topics) corpus.add(capitalize(std::string(topic)));
    for (std::string_view fact : category.facts) corpus.add_template(fact);
    for (std::string_view example : category.examples) corpus.add_template(example);
  }
  for (std::string_view word : vocab::kPeople) corpus.add(capitalize(std::string(word)));
  for (std::string_view word : vocab::kPlaces) corpus.add(word);
  for (std::string_view word : vocab::kTimes) corpus.add(word);
  for (std::string_view word : vocab::kQualities) corpus.add(word);
  for (std::string_view sentence : vocab::kFillerSentences) corpus.add_template(sentence);
  for (std::string_view question : vocab::kQuestions) corpus.add_template(question);
  for (const vocab::StyleAttribute& attribute : vocab::kStyleAttributes) {
    for (const vocab::StylePole& pole : attribute.poles) {
      for (std::string_view criteria : pole.criteria) corpus.add(criteria);
      for (std::string_view response : pole.responses) corpus.add_template(response);
    }
  }
  for (std::string_view criteria : vocab::kQualityCriteria) corpus.add(criteria);
  for (std::string_view response : vocab::kHelpfulResponses) corpus.add_template(response);
  for (std::string_view response : vocab::kHarmfulResponses) corpus.add_template(response);
  for (std::string_view line : vocab::kCorpusExtras) corpus.add(line);
}

}  // namespace

SynthSet synthesize_t2t(int64_t train_pairs, int64_t eval_pairs, uint64_t seed) {
  SynthRandom layout = SynthRandom::stream(seed, kSplitLayoutStream);
  const size_t offset = layout.below(vocab::kQuestions.size());

  SynthSet set;
  set.train = SplitGenerator(split_combos(false, offset), SynthRandom::stream(seed, kTrainStream))
                  .generate(train_pairs, "train");
  set.eval = SplitGenerator(split_combos(true, offset), SynthRandom::stream(seed, kEvalStream))
                 .generate(eval_pairs, "eval");

  CorpusLines corpus;
  add_records(set.train, corpus);
  add_records(set.eval, corpus);
  add_vocabulary(corpus);
  set.tokenizer_corpus = corpus.take();
  return set;
}

}  // namespace omnirm::data
