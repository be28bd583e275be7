// TensorBoard's Event message, the part omnirm writes and reads, encoded as protobuf by hand:
//   Event      { double wall_time = 1; int64 step = 2; string file_version = 3;
//                Summary summary = 5; SessionLog session_log = 7; }
//   Summary    { repeated Value value = 1; }
//   Value      { string tag = 1; float simple_value = 2; }
//   SessionLog { SessionStatus status = 1; }  (START = 1)
// A SessionLog START at step s tells readers that a restarted run writes again from step s:
// TensorBoard drops what it read earlier for steps >= s.
// Decoding skips fields it does not know (graphs, histograms, tensors, ...), so events written
// by other tools read as their scalar part.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace omnirm::io {

struct ScalarValue {
  std::string tag;
  float value = 0.0f;
};

struct TbEvent {
  double wall_time = 0.0;  // seconds since the Unix epoch
  int64_t step = 0;
  std::string file_version;    // "brain.Event:2" in a file's first event, else empty
  bool session_start = false;  // a SessionLog with status START
  std::vector<ScalarValue> scalars;
};

std::string encode_tb_event(const TbEvent& event);

// Throws UserError("<where>: ...") if `payload` is not a well-formed Event message.
TbEvent decode_tb_event(std::string_view payload, const std::string& where);

}  // namespace omnirm::io
