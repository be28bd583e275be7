// The MiniCPM-o path's text side against the reference pipeline (tests/fixtures/minicpmo/, from
// tools/make_minicpmo_fixtures.py): every case's records rendered with the minicpm_o template
// and MiniCPM-o's media layout, tokenized by omnirm's BPE tokenizer on the fixture's
// tokenizer.json, give exactly the token ids LLaMA-Factory's pairwise processor gave for each
// sequence (prompt + one response). The media shapes the layout depends on (each image's slice
// grid, each video's sampled frames, each clip's sample count) are the reference's own; their
// computation from the files is tested in tests/unit/media/minicpmo_media_test.cpp and
// minicpmo_video_test.cpp.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omnirm/data/convert.h"
#include "omnirm/data/minicpmo_layout.h"
#include "omnirm/data/pair_encoder.h"
#include "omnirm/text/chat_template.h"
#include "omnirm/text/tokenizer.h"

namespace {

using omnirm::data::ContentPart;

std::string fixture(const std::string& name) {
  return std::string(OMNIRM_SOURCE_DIR) + "/tests/fixtures/minicpmo/" + name;
}

std::vector<ContentPart> parts_of(const nlohmann::json& content) {
  std::vector<ContentPart> parts;
  for (const auto& part : content) {
    ContentPart p;
    p.type = part["type"].get<std::string>();
    if (p.type == "text")
      p.text = part["text"].get<std::string>();
    else
      p.path = part["path"].get<std::string>();
    parts.push_back(p);
  }
  return parts;
}

TEST(MinicpmoLayout, EveryCaseTokenizesToTheReferenceIds) {
  const omnirm::text::Tokenizer tokenizer =
      omnirm::text::Tokenizer::load(fixture("tokenizer.json"));
  std::ifstream in(fixture("reference.json"));
  const nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  std::ifstream pairs(fixture("pairs.jsonl"));
  int sequences = 0;
  for (std::string line; std::getline(pairs, line);) {
    const nlohmann::json record = nlohmann::json::parse(line);
    const std::string id = record["id"].get<std::string>();
    for (const char* side : {"chosen", "rejected"}) {
      SCOPED_TRACE(id + "/" + side);
      const nlohmann::json& seq = cases[id][side];
      // The sequence's media shapes in token order (prompt media, then the response's).
      std::vector<omnirm::data::MinicpmoPartShape> shapes;
      if (seq.contains("grids")) {
        for (const auto& grid : seq["grids"]) {
          omnirm::data::MinicpmoPartShape shape;
          shape.grids.emplace_back(grid[0].get<int>(), grid[1].get<int>());
          shapes.push_back(shape);
        }
      }
      if (seq.contains("video_grids")) {  // one grid per sampled frame of each video
        for (const auto& frames : seq["video_grids"]) {
          omnirm::data::MinicpmoPartShape shape;
          for (const auto& grid : frames)
            shape.grids.emplace_back(grid[0].get<int>(), grid[1].get<int>());
          shapes.push_back(shape);
        }
      }
      if (seq.contains("audio_samples")) {
        for (const auto& samples : seq["audio_samples"]) {
          omnirm::data::MinicpmoPartShape shape;
          shape.audio_samples = samples.get<int64_t>();
          shapes.push_back(shape);
        }
      }
      size_t next = 0;
      omnirm::data::MinicpmoLayoutOptions options;
      options.shape = [&](const ContentPart&) { return shapes.at(next++); };
      std::vector<omnirm::text::ChatTurn> turns;
      for (const auto& turn : record["prompt"])
        turns.push_back({turn["role"].get<std::string>(),
                         omnirm::data::minicpmo_render_parts(parts_of(turn["content"]), options)});
      const std::string prompt =
          omnirm::text::render_prompt_minicpmo(record["criteria"].get<std::string>(), turns);
      const std::string response = omnirm::text::render_response(
          omnirm::data::minicpmo_render_parts(parts_of(record[side]["content"]), options));
      EXPECT_EQ(next, shapes.size());
      std::vector<int32_t> ids = tokenizer.encode(prompt);
      const std::vector<int32_t> tail = tokenizer.encode(response);
      EXPECT_EQ(static_cast<int64_t>(ids.size()), seq["prompt_length"].get<int64_t>());
      ids.insert(ids.end(), tail.begin(), tail.end());
      EXPECT_EQ(ids, seq["input_ids"].get<std::vector<int32_t>>());
      ++sequences;
    }
  }
  EXPECT_EQ(sequences, 34);
}

// An Omni-RewardBench record (its own layout: prompt, image_path, response1/2, criteria,
// criteria_preference) renders as the reference evaluation renders the benchmark: criteria as
// the system turn, the prompt's media before its text, the responses after the assistant
// header — the ids of the fixture's case with the same content.
TEST(MinicpmoLayout, OmniRewardBenchRecordsRenderAsTheReference) {
  const omnirm::text::Tokenizer tokenizer =
      omnirm::text::Tokenizer::load(fixture("tokenizer.json"));
  std::ifstream in(fixture("reference.json"));
  const nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  const nlohmann::json record = {{"id", "ti2t-1"},
                                 {"prompt", "Describe the image in detail."},
                                 {"image_path", "square.png"},
                                 {"response1", "A cat sits on the mat."},
                                 {"response2", "A red cube on a blue table."},
                                 {"criteria", "Prefer the response that is concise and accurate."},
                                 {"criteria_preference", "response2"}};
  omnirm::data::ConvertContext context;
  context.origin = "text_image_to_text.json:1";
  context.task = "ti2t";
  context.root = fixture("");
  context.media_dir = "media";
  const omnirm::data::Example example = omnirm::data::convert_record(
      omnirm::data::SourceFormat::omni_rewardbench, record.dump(), context);
  omnirm::data::PairEncoder encoder(tokenizer, 4096, omnirm::text::TruncationPolicy::truncate);
  const nlohmann::json& square = cases["image_square"]["chosen"];
  omnirm::data::MinicpmoLayoutOptions options;
  options.shape = [&](const omnirm::data::ContentPart& part) {
    EXPECT_EQ(part.type, "image");
    omnirm::data::MinicpmoPartShape shape;
    shape.grids.emplace_back(square["grids"][0][0].get<int>(), square["grids"][0][1].get<int>());
    return shape;
  };
  encoder.set_minicpmo_layout(options);
  omnirm::data::EncodeCounts counts;
  const auto tokens = encoder.encode(example, counts);
  ASSERT_TRUE(tokens.has_value());
  for (const auto& [side, response] :
       {std::pair{"chosen", tokens->chosen}, std::pair{"rejected", tokens->rejected}}) {
    std::vector<int32_t> ids = tokens->prompt;
    ids.insert(ids.end(), response.begin(), response.end());
    EXPECT_EQ(ids, cases["image_square"][side]["input_ids"].get<std::vector<int32_t>>()) << side;
  }
}

TEST(MinicpmoLayout, ImageAndAudioTextFollowThePluginsLayout) {
  // One image not sliced, index 2: its id, then <image> + Q <unk> + </image>.
  EXPECT_EQ(omnirm::data::minicpmo_image_text(0, 0, 2, true, 2),
            "<image_id>2</image_id><image><unk><unk></image>");
  // A 2 x 2 grid: two rows of two slices, joined by a newline; video frames carry no id.
  EXPECT_EQ(omnirm::data::minicpmo_image_text(2, 2, 0, false, 1),
            "<image><unk></image><slice><unk></slice><slice><unk></slice>\n"
            "<slice><unk></slice><slice><unk></slice>");
  // 1 s of audio: 100 mel frames → 50 encoder frames → 25 tokens; 2.5 s → 25 + 25 + 12.
  EXPECT_EQ(omnirm::data::minicpmo_audio_tokens(16000), 25);
  EXPECT_EQ(omnirm::data::minicpmo_audio_tokens(40000), 62);
  const std::string text = omnirm::data::minicpmo_audio_text(40000, 1.0);
  size_t chunks = 0;
  for (size_t at = text.find("<|audio_start|>"); at != std::string::npos;
       at = text.find("<|audio_start|>", at + 1))
    ++chunks;
  EXPECT_EQ(chunks, 3u);
  // The slots: the <unk> rows inside image/slice and audio bounds, not others.
  omnirm::data::MinicpmoTokenIds t{1, 2, 3, 4, 5, 6, 7};
  const omnirm::data::MinicpmoSlots slots =
      omnirm::data::minicpmo_slots({1, 2, 1, 1, 3, 9, 4, 1, 5, 1, 6, 1, 1, 7}, t, 10);
  EXPECT_EQ(slots.vision, (std::vector<int64_t>{12, 13, 17}));
  EXPECT_EQ(slots.audio, (std::vector<int64_t>{21, 22}));
}

TEST(MinicpmoLayout, TheTemplateWritesQwensSystemTurnWithoutCriteria) {
  const std::string prompt = omnirm::text::render_prompt_minicpmo("", {{"user", "hi"}});
  EXPECT_EQ(prompt, std::string("<|im_start|>system\n") + omnirm::text::kQwenDefaultSystem +
                        "<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(omnirm::text::render_prompt_minicpmo("Be brief.", {{"user", "hi"}}),
            omnirm::text::render_prompt("Be brief.", {{"user", "hi"}}));
}

}  // namespace
