// The body of POST /score and its checks:
//   {"prompt": "text" | [{"role": "user"|"assistant", "content": "text" | [parts]}, ...],
//    "criteria": "text" (optional),
//    "responses": ["text" | [parts] | {"content": "text" | [parts]}, ...],
//    "id": "text" (optional, echoed)}
// A part is {"type": "text", "text": ...} or a media part {"type": "image" | "video" |
// "audio" | "mesh" | "views", "path": "relative/path"} (a file under the server's
// --media-root, confined as training confines a dataset's media: no absolute path, no "..")
// or {"type": ..., "data": "<base64>"} (the file's bytes inline; a "data:...;base64," prefix
// is allowed). Media may stand in the prompt and in the responses (t2i, t2v, t2a, ti2i
// rewards). Every problem is a BadRequest whose one-line message starts with the field at
// fault ("responses[2][0].data: ..."): status 400, or 413 for inline media over the size limit.
//
// Parsing is torch-free and needs no model: the fuzz target drives it. Tokenizing and media
// decoding are serve/request_encoder.h's.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace omnirm::serve {

// A request that is not acceptable: answered with `status` (400 unless said) and the message.
class BadRequest : public std::runtime_error {
 public:
  explicit BadRequest(const std::string& message, int status = 400)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct RequestPart {
  std::string type;   // text | image | video | audio | mesh | views
  std::string text;   // type text
  std::string path;   // a media part by path: relative to --media-root, checked
  std::string data;   // a media part inline: its bytes, decoded from base64
  std::string field;  // where it stands in the request, for messages: "prompt[0].content[1]"

  bool is_media() const { return type != "text"; }
};

struct RequestTurn {
  std::string role;  // user | assistant
  std::vector<RequestPart> content;
};

struct ScoreRequest {
  std::string id;  // echoed back when given
  std::string criteria;
  std::vector<RequestTurn> turns;                   // the last one is a user turn
  std::vector<std::vector<RequestPart>> responses;  // each with text or media
};

struct RequestLimits {
  int64_t max_responses = 32;
  int64_t max_length = 1024;           // prompt + one response, in tokens (the model's budget)
  int64_t max_request_tokens = 16384;  // prompt + all responses (the batch budget)
  int64_t max_media_bytes = 64 << 20;  // one media part (inline, decoded; or a file by path)
  bool media_paths = false;            // whether the server has a --media-root
};

// Throws BadRequest for malformed JSON, missing fields, wrong types, unknown fields, media
// parts that are neither by path nor inline, a path that leaves the root (or any path when
// there is no root), base64 that does not decode, inline media over limits.max_media_bytes
// (413), empty responses and more than limits.max_responses responses.
ScoreRequest parse_score_request(std::string_view body, const RequestLimits& limits);

// Rejects bodies nested deeper than 32 levels before a JSON parser sees them (brackets in
// strings are skipped), so no request can make the parser or a value's destructor recurse
// deeply. Throws BadRequest naming "body".
void check_json_depth(std::string_view body);

// Every media part of `request` in token order (the prompt's turns, then each response):
// pointers into `request`, with the row segment each belongs to (0 the prompt, i response i).
struct MediaPartRef {
  const RequestPart* part;
  int8_t segment;
};
std::vector<MediaPartRef> media_parts(const ScoreRequest& request);

}  // namespace omnirm::serve
