// libFuzzer target for the reward server's request parsing, everything a client controls:
// the bytes of a connection are fed to the request framer in chunks whose sizes the input
// chooses (the first byte seeds them), and every complete request's body goes to the /score
// parser and to the /get_reward parser. Each may only accept or refuse: the framer with a
// status, the parsers with BadRequest. A complete request's body must be exactly as long as
// its Content-Length, and a refusal must carry a 4xx or 5xx status.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "omnirm/serve/http_request_reader.h"
#include "omnirm/serve/openrlhf_request.h"
#include "omnirm/serve/score_request.h"

namespace {

using omnirm::serve::BadRequest;
using omnirm::serve::HttpRequest;
using omnirm::serve::HttpRequestReader;

void parse_body(const std::string& body) {
  omnirm::serve::RequestLimits limits;
  limits.max_responses = 8;
  limits.max_media_bytes = 4096;
  limits.media_paths = body.size() % 2 == 0;
  try {
    const omnirm::serve::ScoreRequest request = omnirm::serve::parse_score_request(body, limits);
    if (request.responses.empty() || request.turns.empty()) __builtin_trap();
    for (const auto& ref : omnirm::serve::media_parts(request)) {
      if (ref.part->path.empty() == ref.part->data.empty()) __builtin_trap();
      if (static_cast<int64_t>(ref.part->data.size()) > limits.max_media_bytes) __builtin_trap();
    }
  } catch (const BadRequest& error) {
    if (error.status() != 400 && error.status() != 413) __builtin_trap();
  }
  try {
    const omnirm::serve::RewardQueries queries = omnirm::serve::parse_reward_queries(body, limits);
    for (const auto& [request, response] : queries.where) {
      if (request >= queries.requests.size()) __builtin_trap();
      if (response >= queries.requests[request].responses.size()) __builtin_trap();
    }
  } catch (const BadRequest&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint32_t seed = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  HttpRequestReader reader({512, 2048});
  size_t at = 0;
  uint32_t state = seed * 2654435761u + 1;
  int requests = 0;
  while (at < bytes.size()) {
    state = state * 1103515245u + 12345u;
    const size_t chunk = 1 + (state >> 16) % 64;
    reader.feed(bytes.substr(at, chunk));
    at += chunk;
    reader.take_continue();
    while (true) {
      const HttpRequestReader::State framed = reader.state();
      if (framed == HttpRequestReader::State::refused) {
        if (reader.refusal().status < 400) __builtin_trap();
        return 0;
      }
      if (framed != HttpRequestReader::State::complete) break;
      const HttpRequest request = reader.take();
      const std::string* length = request.header("Content-Length");
      const size_t expected = length == nullptr ? 0 : std::stoull(*length);
      if (request.body.size() != expected) __builtin_trap();
      parse_body(request.body);
      if (++requests > 64) return 0;
    }
  }
  return 0;
}
