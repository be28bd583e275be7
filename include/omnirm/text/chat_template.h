// The chat template of the Omni-RewardModel-BT recipe, with the criteria as system turn:
//   <|im_start|>system\n{criteria}<|im_end|>\n<|im_start|>user\n{prompt}<|im_end|>\n
//   <|im_start|>assistant\n{response}<|im_end|>\n
// The prompt part ends with the assistant header; each response part ends with <|im_end|>\n.
#pragma once

#include <string>
#include <vector>

namespace omnirm::text {

struct ChatTurn {
  std::string role;  // user | assistant
  std::string text;
};

// System turn (omitted when criteria is empty), every turn, then "<|im_start|>assistant\n".
std::string render_prompt(const std::string& criteria, const std::vector<ChatTurn>& turns);

// The system prompt LLaMA-Factory's minicpm_o template writes when a record has no criteria
// (Qwen2.5's default).
inline constexpr const char* kQwenDefaultSystem =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

// The minicpm_o template: as render_prompt, but the system turn is always written, with
// kQwenDefaultSystem when criteria is empty.
std::string render_prompt_minicpmo(const std::string& criteria, const std::vector<ChatTurn>& turns);

// "{response}<|im_end|>\n".
std::string render_response(const std::string& response);

}  // namespace omnirm::text
