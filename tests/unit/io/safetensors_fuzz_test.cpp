// Runs the libFuzzer target of the safetensors header parser (tests/fuzz) in smoke mode:
// 20,000 inputs grown from tests/fuzz/safetensors_corpus, none of which may crash the parser
// or get through it unsafe to use.
#include <gtest/gtest.h>

#include "support/fuzz_smoke.h"

namespace {

TEST(SafetensorsHeaderFuzz, SmokeRunFindsNoCrash) {
  omnirm::testing::run_fuzz_smoke("safetensors_header_fuzz", "fuzz-safetensors-header",
                                  "safetensors_corpus", 20000);
}

}  // namespace
