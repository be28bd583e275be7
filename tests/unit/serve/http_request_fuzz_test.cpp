// Runs the libFuzzer target of the reward server's request parsing (tests/fuzz) in smoke
// mode: 20,000 inputs grown from tests/fuzz/http_corpus (support/fuzz_smoke.h builds the
// target with clang++ and skips, with a message, only where no clang++ that supports
// -fsanitize=fuzzer is installed).
#include <gtest/gtest.h>

#include "support/fuzz_smoke.h"

namespace {

TEST(HttpRequestFuzz, SmokeRunFindsNoCrash) {
  omnirm::testing::run_fuzz_smoke("http_request_fuzz", "fuzz-http-request", "http_corpus", 20000);
}

}  // namespace
