// Tests of the JSONL pair reader: the canonical form and its shorthands, one error message
// per kind of bad record ("file:line: field: what"), the skip policy, media path checks and
// the to_json_line round trip.
#include "omnirm/data/jsonl_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "omnirm/core/error.h"
#include "support/test_support.h"

namespace omnirm::data {
namespace {

constexpr const char* kSkipAdvice = "; fix the record or set data.on_bad_record: skip";

const std::string kFullRecord =
    R"({"id": "t2t-000017", "task": "ti2t", "criteria": "Prefer the accurate answer.",)"
    R"( "prompt": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},)"
    R"( {"role": "assistant", "content": [{"type": "text", "text": "Hello."}]},)"
    R"( {"role": "user", "content": [{"type": "text", "text": "What is shown?"},)"
    R"( {"type": "image", "path": "media/img/17.png"}]}],)"
    R"( "chosen": {"content": [{"type": "text", "text": "A red cube."}]},)"
    R"( "rejected": {"content": [{"type": "text", "text": "A blue ball."}]},)"
    R"( "preference": "chosen", "margin": 1.5, "tags": ["colour", "hard"],)"
    R"( "source": {"dataset": "extra metadata is ignored"}})";

const std::string kShorthandRecord =
    R"({"id": "s-1", "prompt": "Name a colour.", "chosen": "Red.",)"
    R"( "rejected": {"content": "Seven."}})";

// A record with a string prompt and the given other fields.
std::string record(const std::string& id, const std::string& fields) {
  return R"({"id": ")" + id + R"(", "prompt": "Question?", )" + fields + "}";
}

std::string record_with(const std::string& fields) { return record("x-1", fields); }

const std::string kPairFields = R"("chosen": "Good answer.", "rejected": "Bad answer.")";

std::string write_jsonl(const std::string& name, const std::vector<std::string>& lines) {
  const std::string path = testing::make_temp_dir("jsonl") + "/" + name;
  std::string content;
  for (const std::string& line : lines) content += line + "\n";
  testing::write_file(path, content);
  return path;
}

void expect_same_parts(const std::vector<ContentPart>& a, const std::vector<ContentPart>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].type, b[i].type);
    EXPECT_EQ(a[i].text, b[i].text);
    EXPECT_EQ(a[i].path, b[i].path);
  }
}

// Every field but origin, which records where a copy was read from.
void expect_same_example(const Example& a, const Example& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.task, b.task);
  EXPECT_EQ(a.criteria, b.criteria);
  ASSERT_EQ(a.prompt.size(), b.prompt.size());
  for (size_t i = 0; i < a.prompt.size(); ++i) {
    EXPECT_EQ(a.prompt[i].role, b.prompt[i].role);
    expect_same_parts(a.prompt[i].content, b.prompt[i].content);
  }
  expect_same_parts(a.chosen, b.chosen);
  expect_same_parts(a.rejected, b.rejected);
  EXPECT_EQ(a.preference, b.preference);
  EXPECT_EQ(a.margin, b.margin);
  EXPECT_EQ(a.tags, b.tags);
}

// The message of the UserError thrown when reading a file whose second line is `bad_line`.
std::string error_for_second_line(const std::string& bad_line, std::string* path_out) {
  const std::string path = write_jsonl("pairs.jsonl", {kShorthandRecord, bad_line});
  *path_out = path;
  try {
    read_pairs_jsonl(path, OnBadRecord::error);
  } catch (const UserError& error) {
    return error.what();
  }
  return "";
}

TEST(JsonlReader, ReadsEveryFieldOfTheCanonicalForm) {
  const std::string path = write_jsonl("full.jsonl", {kFullRecord});
  const ReadResult result = read_pairs_jsonl(path, OnBadRecord::error);
  ASSERT_EQ(result.examples.size(), 1u);
  const Example& example = result.examples[0];
  EXPECT_EQ(example.id, "t2t-000017");
  EXPECT_EQ(example.task, "ti2t");
  EXPECT_EQ(example.criteria, "Prefer the accurate answer.");
  ASSERT_EQ(example.prompt.size(), 3u);
  EXPECT_EQ(example.prompt[1].role, "assistant");
  EXPECT_EQ(text_of(example.prompt[1].content), "Hello.");
  ASSERT_EQ(example.prompt[2].content.size(), 2u);
  EXPECT_EQ(example.prompt[2].content[1].type, "image");
  EXPECT_EQ(example.prompt[2].content[1].path, "media/img/17.png");
  EXPECT_EQ(text_of(example.prompt[2].content), "What is shown?");
  EXPECT_EQ(text_of(example.chosen), "A red cube.");
  EXPECT_EQ(text_of(example.rejected), "A blue ball.");
  EXPECT_EQ(example.preference, Preference::chosen);
  EXPECT_DOUBLE_EQ(example.margin, 1.5);
  EXPECT_EQ(example.tags, (std::vector<std::string>{"colour", "hard"}));
  EXPECT_EQ(example.origin, path + ":1");
  EXPECT_EQ(result.summary.lines, 1);
  EXPECT_EQ(result.summary.records, 1);
  EXPECT_EQ(result.summary.skipped, 0);
}

TEST(JsonlReader, ExpandsShorthandsAndAppliesDefaults) {
  const std::string turn_string =
      R"({"id": "s-2", "prompt": [{"role": "user", "content": "Plain turn text."}],)"
      R"( "chosen": {"content": [{"type": "text", "text": "Yes."}]}, "rejected": "No.",)"
      R"( "criteria": null, "tags": null})";
  const std::string path = write_jsonl("short.jsonl", {kShorthandRecord, turn_string});
  const ReadResult result = read_pairs_jsonl(path, OnBadRecord::error);
  ASSERT_EQ(result.examples.size(), 2u);

  const Example& first = result.examples[0];
  EXPECT_EQ(first.task, "t2t");
  EXPECT_EQ(first.criteria, "");
  EXPECT_EQ(first.preference, Preference::chosen);
  EXPECT_EQ(first.margin, 0.0);
  EXPECT_TRUE(first.tags.empty());
  ASSERT_EQ(first.prompt.size(), 1u);
  EXPECT_EQ(first.prompt[0].role, "user");
  ASSERT_EQ(first.prompt[0].content.size(), 1u);
  EXPECT_EQ(first.prompt[0].content[0].type, "text");
  EXPECT_EQ(first.prompt[0].content[0].text, "Name a colour.");
  ASSERT_EQ(first.chosen.size(), 1u);
  EXPECT_EQ(first.chosen[0].type, "text");
  EXPECT_EQ(first.chosen[0].text, "Red.");
  EXPECT_EQ(text_of(first.rejected), "Seven.");

  const Example& second = result.examples[1];
  EXPECT_EQ(text_of(second.prompt[0].content), "Plain turn text.");
  EXPECT_EQ(text_of(second.chosen), "Yes.");
  EXPECT_EQ(text_of(second.rejected), "No.");
  EXPECT_EQ(second.origin, path + ":2");
}

TEST(JsonlReader, ReadsTiePreference) {
  const std::string path =
      write_jsonl("tie.jsonl", {record_with(kPairFields + R"(, "preference": "tie")")});
  const ReadResult result = read_pairs_jsonl(path, OnBadRecord::error);
  ASSERT_EQ(result.examples.size(), 1u);
  EXPECT_EQ(result.examples[0].preference, Preference::tie);
}

TEST(JsonlReader, SkipsBlankLinesAndCountsPhysicalLines) {
  const std::string path = testing::make_temp_dir("jsonl") + "/crlf.jsonl";
  testing::write_file(path, kShorthandRecord + "\r\n\r\n   \r\n" + R"({"id": 5})" + "\r\n");
  try {
    read_pairs_jsonl(path, OnBadRecord::error);
    FAIL() << "expected a UserError";
  } catch (const UserError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path + ":4: id: ", 0), 0u) << error.what();
  }
  const ReadResult result = read_pairs_jsonl(path, OnBadRecord::skip);
  EXPECT_EQ(result.summary.lines, 2);
  EXPECT_EQ(result.summary.records, 1);
  EXPECT_EQ(result.summary.skipped, 1);
}

struct BadRecordCase {
  std::string name;
  std::string line;
  std::string field;  // expected after "file:line: "
};

TEST(JsonlReader, EachBadRecordNamesFileLineAndField) {
  const std::vector<BadRecordCase> cases = {
      {"malformed json", R"({"id": "x-1", "prompt": )", "record"},
      {"not an object", R"(["id", "x-1"])", "record"},
      {"missing id", R"({"prompt": "Q?", )" + kPairFields + "}", "id"},
      {"missing prompt", R"({"id": "x-1", )" + kPairFields + "}", "prompt"},
      {"missing chosen", record_with(R"("rejected": "No.")"), "chosen"},
      {"missing rejected", record_with(R"("chosen": "Yes.")"), "rejected"},
      {"id not a string", R"({"id": 7, "prompt": "Q?", )" + kPairFields + "}", "id"},
      {"prompt not text", R"({"id": "x-1", "prompt": 3, )" + kPairFields + "}", "prompt"},
      {"criteria not text", record_with(kPairFields + R"(, "criteria": ["a"])"), "criteria"},
      {"margin not a number", record_with(kPairFields + R"(, "margin": "high")"), "margin"},
      {"tag not a string", record_with(kPairFields + R"(, "tags": ["ok", 3])"), "tags[1]"},
      {"tags not an array", record_with(kPairFields + R"(, "tags": "a")"), "tags"},
      {"chosen wrong type", record_with(R"("chosen": 1, "rejected": "No.")"), "chosen"},
      {"empty chosen", record_with(R"("chosen": "", "rejected": "No.")"), "chosen"},
      {"blank rejected", record_with(R"("chosen": "Yes.", "rejected": {"content": "  "})"),
       "rejected"},
      {"no parts", record_with(R"("chosen": {"content": []}, "rejected": "No.")"), "chosen"},
      {"identical sides", record_with(R"("chosen": "Same.", "rejected": "Same.")"), "rejected"},
      {"unknown task", record_with(kPairFields + R"(, "task": "t2x")"), "task"},
      {"bad preference", record_with(kPairFields + R"(, "preference": "rejected")"), "preference"},
      {"bad role",
       R"({"id": "x-1", "prompt": [{"role": "system", "content": "Be nice."}], )" + kPairFields +
           "}",
       "prompt[0].role"},
      {"last turn not user",
       R"({"id": "x-1", "prompt": [{"role": "user", "content": "Hi"}, )"
       R"({"role": "assistant", "content": "Hello"}], )" +
           kPairFields + "}",
       "prompt[1].role"},
      {"turn without content",
       R"({"id": "x-1", "prompt": [{"role": "user"}], )" + kPairFields + "}", "prompt[0].content"},
      {"unknown part type",
       record_with(R"("chosen": {"content": [{"type": "smell", "path": "a"}]}, "rejected": "No.")"),
       "chosen.content[0].type"},
      {"text part without text",
       record_with(R"("chosen": {"content": [{"type": "text"}]}, "rejected": "No.")"),
       "chosen.content[0].text"},
      {"media part without path",
       record_with(R"("chosen": "Yes.", "rejected": {"content": [{"type": "audio"}]})"),
       "rejected.content[0].path"},
      {"absolute media path",
       record_with(
           R"("chosen": {"content": [{"type": "image", "path": "/etc/passwd"}]}, "rejected": "No.")"),
       "chosen.content[0].path"},
  };
  for (const BadRecordCase& bad : cases) {
    std::string path;
    const std::string message = error_for_second_line(bad.line, &path);
    const std::string expected_start = path + ":2: " + bad.field + ": ";
    EXPECT_EQ(message.rfind(expected_start, 0), 0u)
        << bad.name << ": expected a message starting with '" << expected_start << "', got '"
        << message << "'";
    EXPECT_TRUE(message.ends_with(kSkipAdvice)) << bad.name << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << bad.name;
  }
}

TEST(JsonlReader, MediaPathsMustStayInsideTheRoot) {
  const std::vector<std::string> accepted = {"media/a.png", "./clips/b.mp4", "a..b/c.wav",
                                             "views/..hidden/d.png", "x"};
  const std::vector<std::string> rejected = {
      "/abs/a.png",      "../a.png", "media/../../a.png", "media/..", "media\\..\\a.png",
      "C:\\data\\a.png", ""};
  auto line_for = [](const std::string& media_path) {
    std::string escaped;
    for (char c : media_path) escaped += (c == '\\') ? std::string("\\\\") : std::string(1, c);
    return record_with(R"("chosen": {"content": [{"type": "image", "path": ")" + escaped +
                       R"("}]}, "rejected": "No.")");
  };
  for (const std::string& media_path : accepted) {
    const Example example = parse_pair_record(line_for(media_path), "m.jsonl:1");
    ASSERT_EQ(example.chosen.size(), 1u);
    EXPECT_EQ(example.chosen[0].path, media_path);
  }
  for (const std::string& media_path : rejected) {
    try {
      parse_pair_record(line_for(media_path), "m.jsonl:1");
      ADD_FAILURE() << "accepted media path '" << media_path << "'";
    } catch (const UserError& error) {
      EXPECT_EQ(std::string(error.what()).rfind("m.jsonl:1: chosen.content[0].path: ", 0), 0u)
          << error.what();
    }
  }
}

TEST(JsonlReader, SkipPolicyCountsBadLinesAndKeepsGoodOnesInOrder) {
  const std::vector<std::string> lines = {
      record("g-1", R"("chosen": "A1", "rejected": "B1")"),
      "not json at all",
      record("g-2", R"("chosen": "A2", "rejected": "B2")"),
      record_with(R"("chosen": "Same", "rejected": "Same")"),
      "",
      record("g-3", R"("chosen": "A3", "rejected": "B3")"),
  };
  const std::string path = write_jsonl("mixed.jsonl", lines);
  const ReadResult result = read_pairs_jsonl(path, OnBadRecord::skip);
  ASSERT_EQ(result.examples.size(), 3u);
  EXPECT_EQ(result.examples[0].id, "g-1");
  EXPECT_EQ(result.examples[1].id, "g-2");
  EXPECT_EQ(result.examples[2].id, "g-3");
  EXPECT_EQ(result.examples[2].origin, path + ":6");
  EXPECT_EQ(result.summary.lines, 5);
  EXPECT_EQ(result.summary.records, 3);
  EXPECT_EQ(result.summary.skipped, 2);
  ASSERT_EQ(result.summary.problems.size(), 2u);
  EXPECT_EQ(result.summary.problems[0].rfind(path + ":2: record: ", 0), 0u);
  EXPECT_EQ(result.summary.problems[1].rfind(path + ":4: rejected: ", 0), 0u);
  EXPECT_FALSE(result.summary.problems[0].ends_with(kSkipAdvice));

  EXPECT_THROW(read_pairs_jsonl(path, OnBadRecord::error), UserError);
}

TEST(JsonlReader, SkipPolicyKeepsOnlyTheFirstHundredProblems) {
  std::vector<std::string> lines(150, R"({"id": 1})");
  lines.push_back(kShorthandRecord);
  const std::string path = write_jsonl("many.jsonl", lines);
  const ReadResult result = read_pairs_jsonl(path, OnBadRecord::skip);
  EXPECT_EQ(result.summary.skipped, 150);
  EXPECT_EQ(result.summary.records, 1);
  ASSERT_EQ(result.summary.problems.size(), 100u);
  EXPECT_EQ(result.summary.problems[99].rfind(path + ":100: id: ", 0), 0u);
}

TEST(JsonlReader, MissingFileIsUserErrorNamingThePath) {
  const std::string path = testing::make_temp_dir("jsonl") + "/absent.jsonl";
  try {
    read_pairs_jsonl(path, OnBadRecord::skip);
    FAIL() << "expected a UserError";
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
  const std::string directory = testing::make_temp_dir("jsonl");
  EXPECT_THROW(read_pairs_jsonl(directory, OnBadRecord::skip), UserError);
}

TEST(JsonlReader, ParsesOnBadRecordPolicy) {
  EXPECT_EQ(parse_on_bad_record("error"), OnBadRecord::error);
  EXPECT_EQ(parse_on_bad_record("skip"), OnBadRecord::skip);
  EXPECT_THROW(parse_on_bad_record("ignore"), UserError);
  EXPECT_THROW(parse_on_bad_record(""), UserError);
}

TEST(JsonlReader, ToJsonLineRoundTrips) {
  const std::vector<std::string> records = {
      kFullRecord, kShorthandRecord,
      record_with(R"("chosen": "Line one\nline two \"quoted\" caf\u00e9 \ud83d\ude42",)"
                  R"( "rejected": {"content": [{"type": "mesh", "path": "m/cube.obj"}]},)"
                  R"( "preference": "tie", "margin": 0.1, "task": "t23d")")};
  for (const std::string& record : records) {
    const Example original = parse_pair_record(record, "in.jsonl:1");
    const std::string line = to_json_line(original);
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    const Example copy = parse_pair_record(line, "out.jsonl:1");
    expect_same_example(original, copy);
    EXPECT_EQ(copy.origin, "out.jsonl:1");
    // The canonical form is a fixed point.
    EXPECT_EQ(to_json_line(copy), line);
  }
}

TEST(JsonlReader, ToJsonLineWritesTheCanonicalForm) {
  const Example example = parse_pair_record(kShorthandRecord, "in.jsonl:1");
  const std::string line = to_json_line(example);
  EXPECT_NE(
      line.find(
          R"("prompt":[{"role":"user","content":[{"type":"text","text":"Name a colour."}]}])"),
      std::string::npos)
      << line;
  EXPECT_NE(line.find(R"("chosen":{"content":[{"type":"text","text":"Red."}]})"), std::string::npos)
      << line;
  EXPECT_NE(line.find(R"("preference":"chosen")"), std::string::npos) << line;
}

}  // namespace
}  // namespace omnirm::data
