// Error types. A UserError is bad input (config, data, CLI usage): the CLI prints its
// one-line message and exits 2. Anything else that escapes is a runtime failure (exit 1).
#pragma once

#include <stdexcept>
#include <string>

namespace omnirm {

// Bad user input. The message is one line: what is wrong, where (file:line or key path),
// and what to do about it.
class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace omnirm
