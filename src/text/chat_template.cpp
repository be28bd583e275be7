// Renders the chat template of the Omni-RewardModel-BT recipe. The output is plain text;
// the tokenizer turns the <|im_start|> / <|im_end|> markers into their single ids.
#include "omnirm/text/chat_template.h"

#include "omnirm/core/error.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::text {
namespace {

void append_turn(std::string& out, const std::string& role, const std::string& text) {
  out += kImStart;
  out += role;
  out += '\n';
  out += text;
  out += kImEnd;
  out += '\n';
}

}  // namespace

std::string render_prompt(const std::string& criteria, const std::vector<ChatTurn>& turns) {
  std::string out;
  if (!criteria.empty()) {
    append_turn(out, "system", criteria);
  }
  for (size_t i = 0; i < turns.size(); ++i) {
    const ChatTurn& turn = turns[i];
    if (turn.role != "user" && turn.role != "assistant") {
      throw UserError("prompt[" + std::to_string(i) + "].role is '" + turn.role +
                      "': use user or assistant");
    }
    append_turn(out, turn.role, turn.text);
  }
  out += kImStart;
  out += "assistant\n";
  return out;
}

std::string render_prompt_minicpmo(const std::string& criteria,
                                   const std::vector<ChatTurn>& turns) {
  return render_prompt(criteria.empty() ? std::string(kQwenDefaultSystem) : criteria, turns);
}

std::string render_response(const std::string& response) {
  std::string out = response;
  out += kImEnd;
  out += '\n';
  return out;
}

}  // namespace omnirm::text
