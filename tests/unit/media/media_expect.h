// Test helper: run a decode that must fail and check its one-line UserError.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "omnirm/core/error.h"

namespace omnirm::media::testing {

// The message of the omnirm::UserError that `decode` throws ("" and a test failure if none).
template <class Decode>
std::string user_error_of(Decode&& decode) {
  try {
    decode();
  } catch (const omnirm::UserError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an omnirm::UserError";
  return "";
}

// "<path>: what; what to do" on one line, with `fragment` in the "what".
inline void expect_media_error(const std::string& message, const std::string& path,
                               const std::string& fragment) {
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NE(message.find("; ", path.size() + 2), std::string::npos) << message;
  EXPECT_NE(message.find(fragment), std::string::npos)
      << "expected '" << fragment << "' in: " << message;
}

}  // namespace omnirm::media::testing
