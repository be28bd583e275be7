// How a run's records get their media (placeholder layout and decoding hook) is shared with
// scoring and lives in the inference area (infer/media_hook.h); training uses it under these
// names.
#pragma once

#include "omnirm/infer/media_hook.h"

namespace omnirm::train {

using infer::make_media_setup;
using infer::media_decoding_available;
using infer::MediaSetup;

}  // namespace omnirm::train
