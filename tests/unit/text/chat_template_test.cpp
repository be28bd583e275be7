// Tests of the chat template: the exact rendered text of prompts and responses.
#include "omnirm/text/chat_template.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "omnirm/core/error.h"

namespace omnirm::text {
namespace {

TEST(ChatTemplateTest, PromptWithCriteriaHasSystemTurn) {
  const std::string rendered = render_prompt("Prefer short answers.", {{"user", "What is 2+2?"}});
  EXPECT_EQ(rendered,
            "<|im_start|>system\nPrefer short answers.<|im_end|>\n"
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, EmptyCriteriaOmitsSystemTurn) {
  const std::string rendered = render_prompt("", {{"user", "hi"}});
  EXPECT_EQ(rendered, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(rendered.find("system"), std::string::npos);
}

TEST(ChatTemplateTest, MultiTurnKeepsOrderAndRoles) {
  const std::vector<ChatTurn> turns = {
      {"user", "Name a colour."}, {"assistant", "Red."}, {"user", "Another one?"}};
  EXPECT_EQ(render_prompt("Be brief.", turns),
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nName a colour.<|im_end|>\n"
            "<|im_start|>assistant\nRed.<|im_end|>\n"
            "<|im_start|>user\nAnother one?<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, TextIsKeptVerbatim) {
  const std::string text = "  two\nlines\twith tab  ";
  EXPECT_EQ(render_prompt("", {{"user", text}}),
            "<|im_start|>user\n" + text + "<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, NoTurnsStillEndsWithAssistantHeader) {
  EXPECT_EQ(render_prompt("", {}), "<|im_start|>assistant\n");
  EXPECT_EQ(render_prompt("c", {}), "<|im_start|>system\nc<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, ResponseEndsWithClosingTokens) {
  EXPECT_EQ(render_response("Four."), "Four.<|im_end|>\n");
  EXPECT_EQ(render_response(""), "<|im_end|>\n");
}

TEST(ChatTemplateTest, UnknownRoleIsUserError) {
  EXPECT_THROW(render_prompt("", {{"system", "x"}}), UserError);
  EXPECT_THROW(render_prompt("", {{"User", "x"}}), UserError);
  try {
    render_prompt("", {{"user", "a"}, {"bot", "b"}});
    FAIL() << "expected UserError";
  } catch (const UserError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'bot'"), std::string::npos) << message;
    EXPECT_NE(message.find("prompt[1].role"), std::string::npos) << message;
    EXPECT_NE(message.find("user or assistant"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace omnirm::text
