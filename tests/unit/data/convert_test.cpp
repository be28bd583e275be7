// Round trips of the converters over the fixture files in tests/fixtures/convert (one per
// source layout: ties, multi-turn prompts, system criteria, media lists, generation tasks,
// frame lists), and their bad-record reports ("file:line", the line a JSON array item starts on;
// error or skip).
#include "omnirm/data/convert.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/data/jsonl_reader.h"
#include "support/test_support.h"

namespace omnirm::data {
namespace {

std::string fixture(const std::string& name) {
  return omnirm::testing::source_dir() + "/tests/fixtures/convert/" + name;
}

struct Converted {
  ConvertSummary summary;
  std::vector<Example> examples;
};

// Converts with `skip`, then reads the output back with the canonical reader under `error`.
Converted convert(SourceFormat format, const std::string& input, const std::string& task = "") {
  ConvertOptions options;
  options.format = format;
  options.input = input;
  options.output = omnirm::testing::make_temp_dir("convert") + "/out.jsonl";
  options.task = task;
  options.on_bad_record = OnBadRecord::skip;
  Converted converted;
  converted.summary = convert_file(options);
  ReadResult read = read_pairs_jsonl(options.output, OnBadRecord::error);
  const std::string text = omnirm::testing::read_file(options.output);
  std::filesystem::remove_all(std::filesystem::path(options.output).parent_path());
  converted.examples = std::move(read.examples);
  // Canonical lines are stable: reading and writing again gives the same line.
  size_t start = 0;
  for (const Example& example : converted.examples) {
    const size_t end = text.find('\n', start);
    EXPECT_EQ(text.substr(start, end - start), to_json_line(example));
    start = end + 1;
  }
  return converted;
}

ContentPart text(const std::string& value) { return ContentPart{"text", value, ""}; }
ContentPart media(const std::string& type, const std::string& path) {
  return ContentPart{type, "", path};
}

void expect_parts(const std::vector<ContentPart>& actual,
                  const std::vector<ContentPart>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].type, expected[i].type) << i;
    EXPECT_EQ(actual[i].text, expected[i].text) << i;
    EXPECT_EQ(actual[i].path, expected[i].path) << i;
  }
}

void expect_problem(const ConvertSummary& summary, size_t index, const std::string& expected) {
  ASSERT_LT(index, summary.problems.size());
  EXPECT_NE(summary.problems[index].find(expected), std::string::npos)
      << summary.problems[index] << "\n  expected: " << expected;
}

TEST(ConvertLlamaFactory, JsonArrayOfEveryTask) {
  const std::string input = fixture("llamafactory_ranking.json");
  const Converted c = convert(SourceFormat::llamafactory, input);
  EXPECT_EQ(c.summary.records, 11);
  EXPECT_EQ(c.summary.written, 9);
  EXPECT_EQ(c.summary.skipped, 2);
  expect_problem(c.summary, 0, input + ":64: rejected: missing required field");
  expect_problem(c.summary, 1, input + ":68: images[0]: media path '../outside/photo.jpg' leaves");
  ASSERT_EQ(c.examples.size(), 9u);

  // Multi-turn text with the system turn as criteria.
  const Example& text_pair = c.examples[0];
  EXPECT_EQ(text_pair.id, "llamafactory_ranking-0");
  EXPECT_EQ(text_pair.task, "t2t");
  EXPECT_EQ(text_pair.criteria, "Prefer the answer that is correct and brief.");
  ASSERT_EQ(text_pair.prompt.size(), 3u);
  EXPECT_EQ(text_pair.prompt[0].role, "user");
  EXPECT_EQ(text_pair.prompt[1].role, "assistant");
  EXPECT_EQ(text_pair.prompt[2].role, "user");
  expect_parts(text_pair.prompt[1].content, {text("At sea level, 100 degrees Celsius.")});
  expect_parts(text_pair.chosen, {text("212 degrees Fahrenheit.")});
  expect_parts(text_pair.rejected, {text("It is 100 degrees, the same in every unit.")});

  EXPECT_EQ(c.examples[1].task, "ti2t");
  expect_parts(c.examples[1].prompt[0].content,
               {media("image", "images/cat.jpg"), text("What animal is shown?")});

  // Generation: placeholders in the responses, or none and the two leftover media.
  EXPECT_EQ(c.examples[2].task, "t2i");
  EXPECT_EQ(c.examples[2].criteria, "The image should match every object in the prompt.");
  expect_parts(c.examples[2].chosen, {media("image", "gen/apple_a.png")});
  expect_parts(c.examples[2].rejected, {media("image", "gen/apple_b.png")});
  EXPECT_EQ(c.examples[3].task, "t2i");
  expect_parts(c.examples[3].chosen, {media("image", "gen/lighthouse_1.png")});
  expect_parts(c.examples[3].rejected, {media("image", "gen/lighthouse_2.png")});

  // Videos stored as frames: a flat "images" list shared by the <video> placeholders, and
  // nested lists; the video part names the frame directory.
  EXPECT_EQ(c.examples[4].task, "t2v");
  expect_parts(c.examples[4].chosen, {media("video", "frames/boat_a")});
  expect_parts(c.examples[4].rejected, {media("video", "frames/boat_b")});
  EXPECT_EQ(c.examples[5].task, "t2v");
  expect_parts(c.examples[5].chosen, {media("video", "frames/fw_1")});
  expect_parts(c.examples[5].rejected, {media("video", "frames/fw_2")});

  // Editing: the first image belongs to the prompt, the next two to the responses.
  EXPECT_EQ(c.examples[6].task, "ti2i");
  expect_parts(c.examples[6].prompt[0].content,
               {media("image", "edit/source.png"), text("\nMake the sky purple.")});
  expect_parts(c.examples[6].chosen, {media("image", "edit/purple.png")});
  expect_parts(c.examples[6].rejected, {media("image", "edit/unchanged.png")});

  EXPECT_EQ(c.examples[7].task, "tv2t");
  expect_parts(c.examples[7].prompt[0].content,
               {text("Summarise the clip: "), media("video", "clips/kitchen.mp4")});
  EXPECT_EQ(c.examples[8].task, "ta2t");
  expect_parts(c.examples[8].prompt[0].content,
               {media("audio", "sounds/strings.wav"), text("Which instrument plays?")});
  EXPECT_EQ(c.summary.per_task.at("t2v"), 2);
  EXPECT_EQ(c.summary.per_task.at("t2i"), 2);
}

TEST(ConvertLlamaFactory, JsonlAndItsBadLines) {
  const std::string input = fixture("llamafactory_ranking.jsonl");
  const Converted c = convert(SourceFormat::llamafactory, input);
  EXPECT_EQ(c.summary.records, 6);
  EXPECT_EQ(c.summary.written, 2);
  ASSERT_EQ(c.summary.skipped, 4);
  expect_problem(c.summary, 0, input + ":3: rejected: identical to chosen");
  expect_problem(c.summary, 1, input + ":4: images: has 0 entries, fewer than the <image>");
  expect_problem(c.summary, 2, input + ":5: conversations[0].from: 'observation' turns");
  expect_problem(c.summary, 3, input + ":6: record: malformed JSON");
  EXPECT_EQ(c.examples[0].id, "llamafactory_ranking-1");
  EXPECT_EQ(c.examples[0].criteria, "Reward the more helpful answer.");
  expect_parts(c.examples[1].prompt[0].content, {media("image", "a.jpg"), media("image", "b.jpg"),
                                                 text("Which photo is brighter?")});
}

TEST(ConvertLlamaFactory, ErrorPolicyStopsAtTheFirstBadRecord) {
  ConvertOptions options;
  options.format = SourceFormat::llamafactory;
  options.input = fixture("llamafactory_ranking.json");
  options.output = omnirm::testing::make_temp_dir("convert") + "/out.jsonl";
  try {
    convert_file(options);
    FAIL() << "a bad record was accepted";
  } catch (const UserError& error) {
    EXPECT_EQ(std::string(error.what()),
              options.input +
                  ":64: rejected: missing required field; fix the record or pass "
                  "--on-bad-record skip");
  }
  EXPECT_FALSE(std::filesystem::exists(options.output));
  EXPECT_FALSE(std::filesystem::exists(options.output + ".partial"));
  std::filesystem::remove_all(std::filesystem::path(options.output).parent_path());
}

TEST(ConvertRewardBench, TextTaskWithTiesAndSwaps) {
  const std::string input = fixture("rewardbench/t2t.json");
  const Converted c = convert(SourceFormat::omni_rewardbench, input);
  EXPECT_EQ(c.summary.written, 3);
  ASSERT_EQ(c.summary.skipped, 1);
  expect_problem(c.summary, 0, input + ":5: criteria_preference: 'both' is not valid");
  ASSERT_EQ(c.examples.size(), 3u);
  for (const Example& example : c.examples) EXPECT_EQ(example.task, "t2t");

  EXPECT_EQ(c.examples[0].id, "101");
  EXPECT_EQ(c.examples[0].criteria, "Follow the haiku form: three lines.");
  expect_parts(c.examples[0].prompt[0].content, {text("Write a haiku about rain.")});
  expect_parts(c.examples[0].rejected, {text("Rain is wet. It falls.")});
  EXPECT_EQ(c.examples[0].preference, Preference::chosen);

  // response2 preferred: it becomes chosen.
  expect_parts(c.examples[1].chosen,
               {text("Gravity is what makes a ball fall back down when you throw it up.")});
  expect_parts(
      c.examples[1].rejected,
      {text("Gravity is a force described by general relativity as spacetime curvature.")});

  // A tie keeps response1 as chosen.
  EXPECT_EQ(c.examples[2].preference, Preference::tie);
  expect_parts(c.examples[2].chosen, {text("Hello there!")});
  expect_parts(c.examples[2].rejected, {text("Hi, nice to meet you!")});
}

TEST(ConvertRewardBench, GenerationTaskFromTheFileNameWithMediaPaths) {
  const std::string input = fixture("rewardbench/T2I_test.jsonl");
  const Converted c = convert(SourceFormat::omni_rewardbench, input);
  EXPECT_EQ(c.summary.written, 2);
  ASSERT_EQ(c.summary.skipped, 1);
  expect_problem(
      c.summary, 0,
      input + ":3: response1_path: media path '/elsewhere/lake.png' is outside the root");
  EXPECT_EQ(c.examples[0].task, "t2i");
  expect_parts(c.examples[0].prompt[0].content, {text("A blue bicycle leaning on a fence.")});
  expect_parts(c.examples[0].chosen, {media("image", "media_data/t2i/bike_flux.png")});
  expect_parts(c.examples[0].rejected, {media("image", "media_data/t2i/bike_sdxl.png")});
  EXPECT_EQ(c.examples[1].preference, Preference::tie);
  expect_parts(c.examples[1].chosen, {media("image", "media_data/t2i/cats_1.png")});
}

TEST(ConvertRewardBench, PromptMediaAndVideoResponses) {
  const std::string ti2t = fixture("rewardbench/text_image_to_text_preferences.json");
  const Converted images = convert(SourceFormat::omni_rewardbench, ti2t);
  EXPECT_EQ(images.summary.written, 2);
  ASSERT_EQ(images.summary.skipped, 1);
  expect_problem(images.summary, 0, ti2t + ":4: image: missing required field");
  EXPECT_EQ(images.examples[0].task, "ti2t");
  expect_parts(images.examples[0].prompt[0].content, {media("image", "media_data/ti2t/crowd.jpg"),
                                                      text("How many people are in the photo?")});
  expect_parts(images.examples[1].prompt[0].content,
               {media("image", "media_data/ti2t/car.jpg"), text("What colour is the car?")});
  expect_parts(images.examples[1].chosen, {text("Blue.")});

  const Converted videos =
      convert(SourceFormat::omni_rewardbench, fixture("rewardbench/text_to_video.json"));
  ASSERT_EQ(videos.examples.size(), 1u);
  EXPECT_EQ(videos.examples[0].task, "t2v");
  expect_parts(videos.examples[0].chosen, {media("video", "media_data/t2v/frisbee_a.mp4")});

  const Converted audio = convert(SourceFormat::omni_rewardbench, fixture("rewardbench/ta2t.json"));
  ASSERT_EQ(audio.examples.size(), 1u);
  EXPECT_EQ(audio.examples[0].task, "ta2t");
  expect_parts(audio.examples[0].prompt[0].content,
               {media("audio", "media_data/ta2t/clip1.wav"), text("What is the speaker's mood?")});
}

TEST(ConvertRewardBench, TaskFlagAndFileNames) {
  const std::string dir = omnirm::testing::make_temp_dir("convert-names");
  const std::string unnamed = dir + "/bench.json";
  std::filesystem::copy_file(fixture("rewardbench/t2t.json"), unnamed);
  ConvertOptions options;
  options.format = SourceFormat::omni_rewardbench;
  options.input = unnamed;
  options.output = dir + "/out.jsonl";
  EXPECT_THROW(convert_file(options), UserError);
  options.task = "TEXT_TO_TEXT";
  options.on_bad_record = OnBadRecord::skip;
  EXPECT_EQ(convert_file(options).written, 3);
  options.task = "t2x";
  EXPECT_THROW(convert_file(options), UserError);
  std::filesystem::remove_all(dir);

  EXPECT_EQ(task_from_file_name("data/t2i.json"), "t2i");
  EXPECT_EQ(task_from_file_name("T2I_test.jsonl"), "t2i");
  EXPECT_EQ(task_from_file_name("text_to_3D_preferences.json"), "t23d");
  EXPECT_EQ(task_from_file_name("text_image_to_image_preferences.json"), "ti2i");
  EXPECT_EQ(task_from_file_name("TV2T-test.json"), "tv2t");
  EXPECT_EQ(task_from_file_name("train.json"), "");
}

TEST(ConvertTrl, ExplicitImplicitMarginsAndImages) {
  const std::string input = fixture("trl_preference.jsonl");
  const Converted c = convert(SourceFormat::trl, input);
  EXPECT_EQ(c.summary.records, 7);
  EXPECT_EQ(c.summary.written, 4);
  ASSERT_EQ(c.summary.skipped, 3);
  expect_problem(c.summary, 0, input + ":5: chosen: chosen and rejected share no prompt messages");
  expect_problem(c.summary, 1, input + ":6: chosen: empty response");
  expect_problem(c.summary, 2, input + ":7: margin: must be a number, got a string");

  EXPECT_EQ(c.examples[0].id, "trl_preference-1");
  EXPECT_EQ(c.examples[0].margin, 1.5);
  expect_parts(c.examples[0].prompt[0].content, {text("What is 2 + 2?")});
  expect_parts(c.examples[0].chosen, {text("4")});

  EXPECT_EQ(c.examples[1].criteria, "Prefer polite answers.");
  ASSERT_EQ(c.examples[1].prompt.size(), 1u);
  expect_parts(c.examples[1].chosen, {text("Of course, it is noon.")});
  expect_parts(c.examples[1].rejected, {text("Look at a clock.")});

  // Implicit prompt: the shared first three messages.
  ASSERT_EQ(c.examples[2].prompt.size(), 3u);
  EXPECT_EQ(c.examples[2].prompt[1].role, "assistant");
  expect_parts(c.examples[2].prompt[2].content, {text("Suggest a fruit.")});
  expect_parts(c.examples[2].chosen, {text("Try a mango.")});
  expect_parts(c.examples[2].rejected, {text("No.")});

  EXPECT_EQ(c.examples[3].id, "vision-1");
  EXPECT_EQ(c.examples[3].task, "ti2t");
  expect_parts(c.examples[3].prompt[0].content,
               {media("image", "pics/bridge.jpg"), text("Describe the image.")});
}

TEST(ConvertFormats, NamesAndRecordLevelErrors) {
  EXPECT_EQ(parse_source_format("trl"), SourceFormat::trl);
  EXPECT_EQ(parse_source_format("omni-rewardbench"), SourceFormat::omni_rewardbench);
  EXPECT_THROW(parse_source_format("sharegpt"), UserError);

  ConvertContext context;
  context.origin = "pairs.json:[4]";
  context.default_id = "pairs-4";
  try {
    convert_record(SourceFormat::trl, R"({"prompt": 3, "chosen": "a", "rejected": "b"})", context);
    FAIL();
  } catch (const UserError& error) {
    EXPECT_EQ(std::string(error.what()),
              "pairs.json:[4]: prompt: must be a string or a list of messages, got a number");
  }
  const std::string mixed =
      R"({"conversations": [{"from": "human", "value": "<audio><image>?"}], "chosen": "a",)"
      R"( "rejected": "b", "images": ["i.png"], "audios": ["s.wav"]})";
  try {
    convert_record(SourceFormat::llamafactory, mixed, context);
    FAIL() << "a task was guessed for audio and image in one prompt";
  } catch (const UserError& error) {
    EXPECT_EQ(std::string(error.what()),
              "pairs.json:[4]: task: cannot tell the task from audio+image media in the prompt "
              "and none in the responses; pass --task");
  }
  ConvertContext forced = context;
  forced.task = "ti2t";
  const Example example = convert_record(SourceFormat::llamafactory, mixed, forced);
  EXPECT_EQ(example.id, "pairs-4");
  EXPECT_EQ(example.task, "ti2t");
  ASSERT_EQ(example.prompt[0].content.size(), 3u);
  EXPECT_EQ(example.prompt[0].content[0].path, "s.wav");  // placeholders keep their order
  EXPECT_EQ(example.prompt[0].content[1].path, "i.png");
}

}  // namespace
}  // namespace omnirm::data
