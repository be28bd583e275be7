// Example → EncodedPair: tokens through the encoder, labels, media references in token
// order, and the media hook for pairs that have media.
#include <filesystem>

#include "omnirm/data/loader.h"

namespace omnirm::data {

namespace {

void collect_media(const std::vector<ContentPart>& parts, Segment segment, const std::string& root,
                   std::vector<MediaRef>& media) {
  for (const ContentPart& part : parts) {
    if (part.type == "text") continue;
    media.push_back(
        MediaRef{segment, part.type, (std::filesystem::path(root) / part.path).string()});
  }
}

// The example with every media path joined to `root` (the MiniCPM-o layout looks the files up
// while rendering).
Example with_media_root(const Example& example, const std::string& root) {
  Example joined = example;
  auto join = [&](std::vector<ContentPart>& parts) {
    for (ContentPart& part : parts)
      if (part.type != "text") part.path = (std::filesystem::path(root) / part.path).string();
  };
  for (Turn& turn : joined.prompt) join(turn.content);
  join(joined.chosen);
  join(joined.rejected);
  return joined;
}

}  // namespace

std::optional<EncodedPair> encode_pair(const Example& example, const PairEncoder& encoder,
                                       EncodeCounts& counts, TokenCache* cache,
                                       const std::string& media_root, const MediaHook& media_hook) {
  const Example rendered =
      encoder.renders_minicpmo() ? with_media_root(example, media_root) : Example();
  const Example& source = encoder.renders_minicpmo() ? rendered : example;
  std::optional<text::PairTokens> tokens =
      cache != nullptr ? encoder.encode(source, counts, *cache) : encoder.encode(source, counts);
  if (!tokens) return std::nullopt;
  EncodedPair pair;
  pair.tokens = std::move(*tokens);
  pair.margin = static_cast<float>(example.margin);
  pair.tie = example.preference == Preference::tie;
  pair.id = example.id;
  pair.task = example.task;
  pair.tags = example.tags;
  for (const Turn& turn : example.prompt)
    collect_media(turn.content, kPrompt, media_root, pair.media);
  collect_media(example.chosen, kChosen, media_root, pair.media);
  collect_media(example.rejected, kRejected, media_root, pair.media);
  if (!pair.media.empty() && media_hook) media_hook(example, pair);
  return pair;
}

}  // namespace omnirm::data
