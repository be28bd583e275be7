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

}  // namespace

std::optional<EncodedPair> encode_pair(const Example& example, const PairEncoder& encoder,
                                       EncodeCounts& counts, TokenCache* cache,
                                       const std::string& media_root, const MediaHook& media_hook) {
  std::optional<text::PairTokens> tokens =
      cache != nullptr ? encoder.encode(example, counts, *cache) : encoder.encode(example, counts);
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
