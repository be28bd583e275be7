// TensorBoard event files: CRC-32C against its standard check values, writer -> reader round
// trips, a file made by TensorBoard's own writer (tools/make_tb_fixture.py) read back, and
// corrupt or truncated records reported with the file, record and byte offset.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "omnirm/core/error.h"
#include "omnirm/io/crc32c.h"
#include "omnirm/io/event_file.h"
#include "support/test_support.h"

namespace {

using omnirm::io::EventFileWriter;
using omnirm::io::read_event_file;
using omnirm::io::ScalarValue;
using omnirm::io::TailPolicy;
using omnirm::io::TbEvent;
using omnirm::testing::make_temp_dir;
using omnirm::testing::read_file;
using omnirm::testing::user_error_of;
using omnirm::testing::write_file;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// An event file written by EventFileWriter: steps 1..3 of two scalars, then one of three.
std::string written_file(const std::string& dir) {
  EventFileWriter writer(dir);
  for (int64_t step = 1; step <= 3; ++step) {
    writer.write_scalars(step, {{"loss", 1.0f / float(step)}, {"eval/accuracy", 0.25f * step}});
  }
  writer.write_scalars(int64_t(1) << 40, {{"lr", 3e-4f}, {"grad_norm", 12.5f}, {"x", -0.0f}});
  return writer.path();
}

TEST(Crc32c, StandardCheckValues) {
  EXPECT_EQ(omnirm::io::crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(omnirm::io::crc32c(""), 0u);
  // iSCSI (RFC 3720, B.4) vectors: 32 bytes of zeros and of 0xFF.
  EXPECT_EQ(omnirm::io::crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(omnirm::io::crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  // Continuing a checksum over a split input gives the one-shot value.
  EXPECT_EQ(omnirm::io::crc32c("6789", omnirm::io::crc32c("12345")), 0xE3069283u);
}

TEST(EventFile, WriterToReaderRoundTrip) {
  const std::string dir = make_temp_dir("events") + "/tb";
  const double before = now_seconds();
  const std::string path = written_file(dir);
  const double after = now_seconds();
  EXPECT_EQ(std::filesystem::path(path).parent_path(), std::filesystem::path(dir));
  EXPECT_TRUE(std::filesystem::path(path).filename().string().starts_with("events.out.tfevents."))
      << path;

  const auto contents = read_event_file(path);
  EXPECT_EQ(contents.truncated_tail, "");
  ASSERT_EQ(contents.events.size(), 5u);
  EXPECT_EQ(contents.events[0].file_version, "brain.Event:2");
  EXPECT_TRUE(contents.events[0].scalars.empty());
  for (const TbEvent& event : contents.events) {
    EXPECT_GE(event.wall_time, before - 1e-3);
    EXPECT_LE(event.wall_time, after + 1e-3);
  }
  for (int64_t step = 1; step <= 3; ++step) {
    const TbEvent& event = contents.events[size_t(step)];
    EXPECT_EQ(event.step, step);
    EXPECT_EQ(event.file_version, "");
    ASSERT_EQ(event.scalars.size(), 2u);
    EXPECT_EQ(event.scalars[0].tag, "loss");
    EXPECT_EQ(event.scalars[0].value, 1.0f / float(step));
    EXPECT_EQ(event.scalars[1].tag, "eval/accuracy");
    EXPECT_EQ(event.scalars[1].value, 0.25f * step);
    EXPECT_GE(event.wall_time, contents.events[size_t(step) - 1].wall_time);
  }
  const TbEvent& last = contents.events[4];
  EXPECT_EQ(last.step, int64_t(1) << 40);
  ASSERT_EQ(last.scalars.size(), 3u);
  EXPECT_EQ(last.scalars[0].tag, "lr");
  EXPECT_EQ(last.scalars[0].value, 3e-4f);
  EXPECT_EQ(last.scalars[1].value, 12.5f);
  EXPECT_TRUE(std::signbit(last.scalars[2].value));
}

TEST(EventFile, ASessionStartRoundTrips) {
  const std::string dir = make_temp_dir("events");
  EventFileWriter writer(dir);
  writer.write_scalars(4, {{"loss", 0.5f}});
  writer.write_session_start(5);
  writer.write_scalars(5, {{"loss", 0.25f}});
  const auto events = read_event_file(writer.path()).events;
  ASSERT_EQ(events.size(), 4u);
  EXPECT_FALSE(events[1].session_start);
  EXPECT_TRUE(events[2].session_start);
  EXPECT_EQ(events[2].step, 5);
  EXPECT_TRUE(events[2].scalars.empty());
  EXPECT_FALSE(events[3].session_start);
}

TEST(EventFile, WritersInOneDirectoryNeverShareAFile) {
  const std::string dir = make_temp_dir("events");
  EventFileWriter first(dir);
  EventFileWriter second(dir);
  EXPECT_NE(first.path(), second.path());
  first.write_scalars(1, {{"a", 1.0f}});
  second.write_scalars(2, {{"b", 2.0f}});
  const std::vector<std::string> files = omnirm::io::event_files_in(dir);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(read_event_file(first.path()).events.back().scalars[0].tag, "a");
  EXPECT_EQ(read_event_file(second.path()).events.back().scalars[0].tag, "b");
}

TEST(EventFile, ReadsAFileWrittenByTensorBoard) {
  const std::string fixtures = omnirm::testing::source_dir() + "/tests/fixtures/tensorboard";
  const auto expected = nlohmann::json::parse(read_file(fixtures + "/reference.json"))["events"];
  const auto contents = read_event_file(fixtures + "/reference.tfevents");
  ASSERT_EQ(contents.events.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const TbEvent& event = contents.events[i];
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(event.wall_time, expected[i]["wall_time"].get<double>());
    EXPECT_EQ(event.step, expected[i]["step"].get<int64_t>());
    EXPECT_EQ(event.file_version, expected[i]["file_version"].get<std::string>());
    EXPECT_EQ(event.session_start, expected[i]["session_start"].get<bool>());
    ASSERT_EQ(event.scalars.size(), expected[i]["scalars"].size());
    for (size_t j = 0; j < event.scalars.size(); ++j) {
      EXPECT_EQ(event.scalars[j].tag, expected[i]["scalars"][j]["tag"].get<std::string>());
      EXPECT_EQ(event.scalars[j].value, expected[i]["scalars"][j]["value"].get<float>());
    }
  }
}

TEST(EventFile, OurEncodingMatchesTensorBoardsBytes) {
  // The fixture's second record, re-encoded from what was read, frames to the same bytes.
  const std::string fixtures = omnirm::testing::source_dir() + "/tests/fixtures/tensorboard";
  const std::string bytes = read_file(fixtures + "/reference.tfevents");
  const auto split = omnirm::io::tfrecord_split(bytes, "fixture");
  ASSERT_GE(split.records.size(), 2u);
  const TbEvent event = omnirm::io::decode_tb_event(split.records[1].payload, "fixture");
  EXPECT_EQ(omnirm::io::encode_tb_event(event), split.records[1].payload);
  const size_t start = split.records[1].offset;
  const std::string framed = omnirm::io::tfrecord_frame(split.records[1].payload);
  EXPECT_EQ(framed, bytes.substr(start, framed.size()));
}

TEST(EventFile, AFlippedPayloadByteIsACrcError) {
  const std::string dir = make_temp_dir("events");
  const std::string path = written_file(dir);
  std::string bytes = read_file(path);
  const auto split = omnirm::io::tfrecord_split(bytes, path);
  ASSERT_EQ(split.records.size(), 5u);
  const size_t record = 2;  // the second scalar event, the file's third record
  bytes[split.records[record].offset + 12 + 5] ^= 0x01;
  write_file(path, bytes);
  const std::string message = user_error_of([&] { read_event_file(path); });
  EXPECT_TRUE(contains(message,
                       path + ": record 3 at byte " + std::to_string(split.records[record].offset)))
      << message;
  EXPECT_TRUE(contains(message, "payload CRC mismatch")) << message;
  EXPECT_TRUE(contains(message, "corrupt")) << message;
  // Corruption is never passed over, whatever the tail policy.
  EXPECT_TRUE(contains(user_error_of([&] { read_event_file(path, TailPolicy::keep_complete); }),
                       "payload CRC mismatch"));
}

TEST(EventFile, AFlippedLengthByteIsACrcError) {
  const std::string dir = make_temp_dir("events");
  const std::string path = written_file(dir);
  std::string bytes = read_file(path);
  const auto split = omnirm::io::tfrecord_split(bytes, path);
  bytes[split.records[1].offset] ^= 0x04;  // the length's low byte
  write_file(path, bytes);
  const std::string message = user_error_of([&] { read_event_file(path); });
  EXPECT_TRUE(contains(message, "record 2 at byte " + std::to_string(split.records[1].offset)))
      << message;
  EXPECT_TRUE(contains(message, "length CRC mismatch")) << message;
}

TEST(EventFile, ATruncatedLastRecordIsReported) {
  const std::string dir = make_temp_dir("events");
  const std::string path = written_file(dir);
  const std::string bytes = read_file(path);
  const auto split = omnirm::io::tfrecord_split(bytes, path);
  const size_t last = split.records.back().offset;
  // Cut inside the payload, inside the footer and inside the header of the last record.
  for (const size_t cut : {last + 20, bytes.size() - 1, last + 5}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    write_file(path, bytes.substr(0, cut));
    const std::string message = user_error_of([&] { read_event_file(path); });
    EXPECT_TRUE(contains(message, path + ": record 5 at byte " + std::to_string(last))) << message;
    EXPECT_TRUE(contains(message, "truncated")) << message;
    const auto kept = read_event_file(path, TailPolicy::keep_complete);
    EXPECT_EQ(kept.events.size(), 4u);
    EXPECT_EQ(kept.events.back().step, 3);
    EXPECT_TRUE(contains(kept.truncated_tail, "truncated")) << kept.truncated_tail;
  }
}

TEST(EventFile, AMalformedEventNamesTheRecord) {
  const std::string dir = make_temp_dir("events");
  const std::string path = dir + "/events.out.tfevents.1.host";
  // Field 5 (summary) claims 100 bytes but has 2; the CRCs are right.
  write_file(path, omnirm::io::tfrecord_frame(std::string("\x2a\x64\x0a\x00", 4)));
  const std::string message = user_error_of([&] { read_event_file(path); });
  EXPECT_TRUE(contains(message, path + ": record 1 at byte 0: malformed event")) << message;
}

TEST(EventFile, MissingFileIsAUserError) {
  const std::string path = make_temp_dir("events") + "/absent";
  EXPECT_TRUE(contains(user_error_of([&] { read_event_file(path); }), path));
}

}  // namespace
