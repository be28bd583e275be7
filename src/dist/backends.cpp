// Implementation of dist/backends.h: the same build conditions communicator.cpp creates the
// backends under.
#include "omnirm/dist/backends.h"

namespace omnirm::dist {

bool gloo_available() {
#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
  return true;
#else
  return false;
#endif
}

bool nccl_available() {
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
  return true;
#else
  return false;
#endif
}

}  // namespace omnirm::dist
