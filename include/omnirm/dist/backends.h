// Which c10d backends this build can create: Gloo (CPU ranks; needs Gloo's headers at build
// time) and NCCL (CUDA ranks; needs a LibTorch built with NCCL).
#pragma once

namespace omnirm::dist {

bool gloo_available();
bool nccl_available();

}  // namespace omnirm::dist
