// data::synthesize: checks the options and runs the generator of each requested task.
// Only t2t exists so far; any other task name is a UserError that lists what is available.
#include "omnirm/data/synth.h"

#include <algorithm>
#include <string>

#include "omnirm/core/error.h"
#include "synth_t2t.h"

namespace omnirm::data {

SynthSet synthesize(const SynthOptions& options) {
  if (options.tasks.empty()) {
    throw UserError("data synth: no task given; available: t2t");
  }
  for (const std::string& task : options.tasks) {
    if (task != "t2t") {
      throw UserError("task '" + task + "' is not available in data synth yet; available: t2t");
    }
  }
  if (options.train_pairs < 0 || options.eval_pairs < 0) {
    throw UserError("data synth: pair counts must not be negative (train " +
                    std::to_string(options.train_pairs) + ", eval " +
                    std::to_string(options.eval_pairs) + "); give counts of 0 or more");
  }
  return synthesize_t2t(options.train_pairs, options.eval_pairs, options.seed);
}

}  // namespace omnirm::data
