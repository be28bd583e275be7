// How a run's records get their media: the placeholder layout that matches the model's
// adapters, and the hook that decodes each pair's media files (through a content-keyed cache)
// into tower inputs on the loader's worker threads.
#pragma once

#include <optional>

#include "omnirm/core/config.h"
#include "omnirm/data/loader.h"
#include "omnirm/data/media_layout.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::train {

struct MediaSetup {
  std::optional<data::MediaLayout> layout;  // set when the model has any adapter
  data::MediaHook hook;                     // always set: refuses media the model cannot take
  // model.arch minicpmo: how prompts and responses are rendered (the media's shapes come from
  // the same cache the hook decodes through). Give it to the PairEncoder / LoaderOptions.
  std::optional<data::MinicpmoLayoutOptions> minicpmo;
};

// A bad or missing file, or media of a kind the model has no adapter for, throws
// UserError "record <id> / <path>: what; what to do" from the hook.
MediaSetup make_media_setup(const Config& config, const text::Tokenizer& tokenizer);

// Whether this build decodes media files (the GPU build profile does not).
bool media_decoding_available();

}  // namespace omnirm::train
