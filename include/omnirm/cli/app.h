// The omnirm command line: `omnirm train | eval | score | serve | export | data | tokenizer |
// bench`.
#pragma once

namespace omnirm::cli {

// Parses argv and runs the subcommand. Returns the process exit code: 0 on success,
// 2 for usage or input errors (one line on stderr), 1 for runtime failures.
int run(int argc, char** argv);

}  // namespace omnirm::cli
