// From a parsed score request to a scoring row (infer/scoring_row.h), the way training encodes
// a pair: the chat template with the criteria as system turn (text/chat_template.h), media
// parts as their placeholders (data/media_layout.h) expanded to their adapters' token counts,
// each response rendered and tokenized on its own, and every media part decoded by the same
// decoders, limits and content-keyed cache as training (infer/media_hook.h). So the rewards of
// a request are the rewards `omnirm score` gives the same prompt and responses. Under
// model.arch minicpmo the prompt and responses take the minicpm_o template and MiniCPM-o's
// media layout (data/minicpmo_layout.h), made from each part's decoded size, and a part becomes
// the items that path decodes (an image's slices, a video's frames, audio's 30 s chunks), as
// training renders a pair.
//
// Media by path are read under the media root only: the relative path is checked when parsed,
// and the file it resolves to (symbolic links followed) must lie inside the root. Inline media
// are written to a private scratch file, decoded, and removed; the cache keys by content, so
// the same bytes sent again are not decoded again.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "omnirm/core/config.h"
#include "omnirm/data/media_layout.h"
#include "omnirm/data/minicpmo_layout.h"
#include "omnirm/infer/media_hook.h"
#include "omnirm/infer/scoring_row.h"
#include "omnirm/serve/score_request.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::serve {

class RequestEncoder {
 public:
  // `config`: the model's (its media settings and adapters). `media_root`: where media by
  // path are read ("" for none). Inline media use a scratch directory of their own, removed
  // with the encoder. `tokenizer` must outlive the encoder.
  RequestEncoder(const Config& config, const text::Tokenizer& tokenizer, std::string media_root,
                 const RequestLimits& limits);
  ~RequestEncoder();
  RequestEncoder(const RequestEncoder&) = delete;
  RequestEncoder& operator=(const RequestEncoder&) = delete;

  // Throws BadRequest naming the field: a prompt + response over limits.max_length, a request
  // over limits.max_request_tokens, media of a kind the model has no adapter for, a file that
  // is missing, outside the root, damaged or over the decode limits. Thread-safe.
  infer::ScoringRow encode(const ScoreRequest& request) const;

  // The token ids of the rendered prompt and responses, without media decoding (the length
  // checks apply).
  infer::ScoringRow tokenize(const ScoreRequest& request) const;

  const std::optional<data::MediaLayout>& media_layout() const { return layout_; }
  const std::string& media_root() const { return media_root_; }

 private:
  // BadRequest naming part.field.type when the model has no adapter for the part's kind.
  void check_adapter(const RequestPart& part) const;
  // The file a media part is read from: under the media root, or its inline bytes written to
  // a new scratch file whose path goes to `scratch_path` (the caller removes it).
  std::string media_file(const RequestPart& part, std::string* scratch_path) const;
  // Runs `decode` on the part's file `path`; a failure becomes a BadRequest naming the field.
  void decode_guarded(const RequestPart& part, const std::string& path,
                      const std::function<void()>& decode) const;
  data::MediaItem decode_part(const RequestPart& part, int8_t segment) const;
  std::string resolve_path(const RequestPart& part) const;
  // The BadRequests of tokenize() for a prompt + response over max_length or a request over
  // max_request_tokens.
  void check_lengths(const infer::ScoringRow& row) const;
  // model.arch minicpmo: encode() (decode true) or tokenize() (media laid out, not decoded).
  infer::ScoringRow encode_minicpmo(const ScoreRequest& request, bool decode) const;

  const text::Tokenizer& tokenizer_;
  std::optional<data::MediaLayout> layout_;
  std::string media_root_;  // canonical, "" for none
  RequestLimits limits_;
  std::unique_ptr<infer::MediaDecoder> decoder_;
  std::optional<data::MinicpmoLayoutOptions> minicpmo_;  // model.arch minicpmo
  mutable std::mutex scratch_mutex_;
  mutable std::string scratch_dir_;  // created on first inline media, under scratch_mutex_
};

}  // namespace omnirm::serve
