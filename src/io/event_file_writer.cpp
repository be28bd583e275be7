// EventFileWriter of io/event_file.h.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "omnirm/core/error.h"
#include "omnirm/io/event_file.h"

namespace omnirm::io {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

EventFileWriter::EventFileWriter(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir, error);
  const auto seconds = static_cast<int64_t>(now_seconds());
  const std::string base =
      fmt::format("events.out.tfevents.{}.{}.{}", seconds, host_name(), ::getpid());
  path_ = (fs::path(dir) / base).string();
  for (int n = 1; fs::exists(path_); ++n)
    path_ = (fs::path(dir) / fmt::format("{}.{}", base, n)).string();
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    throw UserError("cannot write the TensorBoard event file " + path_ +
                    "; check train.output_dir is writable, or set train.tensorboard: false");
  }
  TbEvent version;
  version.wall_time = now_seconds();
  version.file_version = "brain.Event:2";
  write(version);
}

void EventFileWriter::write_scalars(int64_t step, const std::vector<ScalarValue>& values) {
  TbEvent event;
  event.wall_time = now_seconds();
  event.step = step;
  event.scalars = values;
  write(event);
}

void EventFileWriter::write_session_start(int64_t step) {
  TbEvent event;
  event.wall_time = now_seconds();
  event.step = step;
  event.session_start = true;
  write(event);
}

void EventFileWriter::write(const TbEvent& event) {
  const std::string record = tfrecord_frame(encode_tb_event(event));
  out_.write(record.data(), static_cast<std::streamsize>(record.size()));
  out_.flush();
  if (!out_) throw UserError("writing the TensorBoard event file " + path_ + " failed: disk full?");
}

}  // namespace omnirm::io
