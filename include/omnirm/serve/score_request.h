// The body of POST /score and its checks:
//   {"prompt": "text" | [{"role": "user"|"assistant", "content": "text" | [text parts]}, ...],
//    "criteria": "text" (optional), "responses": ["text", ...], "id": "text" (optional, echoed)}
// Text only: a media part in the prompt is refused with a message saying so. Every problem is
// a BadRequest whose one-line message starts with the field at fault ("responses[2]: ...").
// Tokenization follows the training encoder exactly (chat template with the criteria as
// system turn; each response rendered and tokenized on its own), so the server's rewards are
// the rewards `omnirm score` gives the same prompt and responses.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/text/chat_template.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::serve {

// A request that is not acceptable: answered with 400 and this message.
class BadRequest : public std::runtime_error {
 public:
  explicit BadRequest(const std::string& message) : std::runtime_error(message) {}
};

struct ScoreRequest {
  std::string id;  // echoed back when given
  std::string criteria;
  std::vector<text::ChatTurn> turns;  // the last one is a user turn
  std::vector<std::string> responses;
};

struct RequestLimits {
  int64_t max_responses = 32;
  int64_t max_length = 1024;           // prompt + one response, in tokens (the model's budget)
  int64_t max_request_tokens = 16384;  // prompt + all responses (the batch budget)
};

// Throws BadRequest for malformed JSON, missing fields, wrong types, unknown fields, media
// parts, empty responses and more than limits.max_responses responses.
ScoreRequest parse_score_request(std::string_view body, const RequestLimits& limits);

// The tokens of one request: the prompt once and each response.
struct TokenizedRequest {
  std::vector<int32_t> prompt;
  std::vector<std::vector<int32_t>> responses;

  // prompt + every response: what the request adds to a batch.
  int64_t tokens() const;
};

// Throws BadRequest when prompt + a response exceeds limits.max_length (naming the
// response), or the whole request exceeds limits.max_request_tokens.
TokenizedRequest tokenize_score_request(const ScoreRequest& request,
                                        const text::Tokenizer& tokenizer,
                                        const RequestLimits& limits);

}  // namespace omnirm::serve
