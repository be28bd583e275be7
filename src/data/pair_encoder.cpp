// Encodes an Example as three token runs: the rendered prompt (criteria as system turn, the
// prompt turns, the assistant header) and each rendered response (text + closing tokens),
// then fits them to the length budget. Each part is tokenized on its own, so the prompt run
// is shared by both responses. Media parts are rendered as placeholders and, with a media
// layout, expanded to their adapters' token counts. A TokenCache gives the same ids faster.
#include "omnirm/data/pair_encoder.h"

#include <string>
#include <utility>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/text/chat_template.h"

namespace omnirm::data {
namespace {

std::string render_example_prompt(const Example& example,
                                  const std::optional<MinicpmoLayoutOptions>& minicpmo) {
  std::vector<text::ChatTurn> turns;
  turns.reserve(example.prompt.size());
  try {
    for (const Turn& turn : example.prompt) {
      turns.push_back(text::ChatTurn{turn.role, minicpmo
                                                    ? minicpmo_render_parts(turn.content, *minicpmo)
                                                    : render_parts(turn.content)});
    }
    return minicpmo ? text::render_prompt_minicpmo(example.criteria, turns)
                    : text::render_prompt(example.criteria, turns);
  } catch (const UserError& error) {
    const std::string where = example.origin.empty() ? "pair '" + example.id + "'" : example.origin;
    throw UserError(where + ": " + error.what());
  }
}

}  // namespace

PairEncoder::PairEncoder(const text::Tokenizer& tokenizer, int64_t max_length,
                         text::TruncationPolicy policy, std::optional<MediaLayout> media_layout)
    : tokenizer_(tokenizer),
      media_layout_(media_layout),
      max_length_(max_length),
      policy_(policy),
      closing_tokens_(static_cast<int64_t>(tokenizer.encode(text::render_response("")).size())) {}

std::array<std::string, 3> PairEncoder::render(const Example& example) const {
  auto response = [&](const std::vector<ContentPart>& parts) {
    return text::render_response(minicpmo_ ? minicpmo_render_parts(parts, *minicpmo_)
                                           : render_parts(parts));
  };
  return {render_example_prompt(example, minicpmo_), response(example.chosen),
          response(example.rejected)};
}

std::optional<text::PairTokens> PairEncoder::encode(const Example& example,
                                                    EncodeCounts& counts) const {
  const std::array<std::string, 3> texts = render(example);
  text::PairTokens pair;
  pair.prompt = tokenizer_.encode(texts[0]);
  pair.chosen = tokenizer_.encode(texts[1]);
  pair.rejected = tokenizer_.encode(texts[2]);
  return fit(std::move(pair), counts);
}

std::optional<text::PairTokens> PairEncoder::encode(const Example& example, EncodeCounts& counts,
                                                    TokenCache& cache) const {
  text::PairTokens pair;
  const auto [prompt, chosen, rejected] = render(example);
  // About one token per four bytes of text: most runs fit without regrowing.
  pair.prompt.reserve(prompt.size() / 4 + 8);
  pair.chosen.reserve(chosen.size() / 4 + 8);
  pair.rejected.reserve(rejected.size() / 4 + 8);
  cache.encode_append(prompt, pair.prompt);
  cache.encode_append(chosen, pair.chosen);
  cache.encode_append(rejected, pair.rejected);
  return fit(std::move(pair), counts);
}

std::optional<text::PairTokens> PairEncoder::fit(text::PairTokens pair,
                                                 EncodeCounts& counts) const {
  int64_t media_tokens = 0;
  if (media_layout_) {
    expand_placeholders(pair.prompt, *media_layout_);
    expand_placeholders(pair.chosen, *media_layout_);
    expand_placeholders(pair.rejected, *media_layout_);
    media_tokens = placeholder_tokens(pair, *media_layout_);
  }
  const text::FitOutcome outcome =
      text::fit_pair_to_length(pair, max_length_, policy_, closing_tokens_);
  const bool media_cut = media_layout_ && outcome == text::FitOutcome::truncated &&
                         placeholder_tokens(pair, *media_layout_) != media_tokens;
  if (outcome == text::FitOutcome::dropped || media_cut) {
    ++counts.dropped;
    return std::nullopt;
  }
  if (outcome == text::FitOutcome::truncated) {
    ++counts.truncated;
  }
  ++counts.encoded;
  return pair;
}

}  // namespace omnirm::data
