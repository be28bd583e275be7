// Runs the libFuzzer target of the record readers (tests/fuzz) in smoke mode: 20,000 inputs
// grown from tests/fuzz/corpus (support/fuzz_smoke.h builds the target with clang++ and skips,
// with a message, only where no clang++ that supports -fsanitize=fuzzer is installed).
#include <gtest/gtest.h>

#include "support/fuzz_smoke.h"

namespace {

TEST(RecordParserFuzz, SmokeRunFindsNoCrash) {
  omnirm::testing::run_fuzz_smoke("record_parser_fuzz", "fuzz-record-parser", "corpus", 20000);
}

}  // namespace
