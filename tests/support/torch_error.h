// For tests of torch-facing code: the message of the c10::Error (a failed TORCH_CHECK) that an
// action throws. Header-only, so only test executables that link torch include it.
#pragma once

#include <c10/util/Exception.h>

#include <functional>
#include <string>

namespace omnirm::testing {

// The c10::Error message of `action`, or "" when it throws none.
inline std::string torch_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const c10::Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace omnirm::testing
