// POST /get_reward: the remote reward model protocol of OpenRLHF (`--remote_rm_url
// http://HOST:PORT/get_reward`), so an OpenRLHF run points at `omnirm serve` unchanged.
//   request   {"query": ["<prompt + response as one rendered string>", ...],
//              "prompts": ["<the rendered prompt>", ...] (optional), "labels": [...] (ignored)}
//   response  {"rewards": [r, ...], "scores": [r, ...], "extra_logs": {}}  (one per query)
// OpenRLHF's trainer decodes each rollout (prompt tokens + response tokens, special tokens
// kept) into a query. With a ChatML chat template (Qwen's, and omnirm's own), a query is
//   [<|im_start|>system\n{criteria}<|im_end|>\n]
//   (<|im_start|>{user|assistant}\n{text}<|im_end|>\n)*
//   <|im_start|>assistant\n{response}[<|im_end|>][<|endoftext|>...]
// and is split back into criteria, turns and response, so its reward is exactly the one
// POST /score gives the same texts. A query in another layout is split at its prompt (it
// must start with prompts[i]): the prompt becomes one user turn, the rest the response.
// Queries with the same prompt share one scoring row (the prompt encoded once).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/serve/score_request.h"

namespace omnirm::serve {

struct RewardQueries {
  std::vector<ScoreRequest> requests;  // text only; one per distinct prompt (split at limits)
  // Per query, in order: which request and which of its responses holds it.
  std::vector<std::pair<size_t, size_t>> where;
};

// Throws BadRequest naming the field ("query[3]: ...") for a body that is not the protocol's,
// a query that cannot be split into prompt and response, or more queries than
// limits.max_responses × 8.
RewardQueries parse_reward_queries(std::string_view body, const RequestLimits& limits);

// A ChatML conversation split into its parts; nullopt when `text` is not one whose last turn
// is the assistant's (the response).
struct ChatmlConversation {
  std::string system;  // "" when absent
  std::vector<RequestTurn> turns;
  std::string response;
};
std::optional<ChatmlConversation> split_chatml(std::string_view text, const std::string& field);

}  // namespace omnirm::serve
