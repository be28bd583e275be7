// Counting the reads of tensor values back to the host: every .item() and the like comes down
// to aten::_local_scalar_dense, which on a CUDA tensor stops the host until the device catches
// up. A HostReadCounter observes the ATen calls of its thread while alive; on the CPU this
// shows, by count, that a piece of code would make no such read on a device either.
#pragma once

#include <ATen/record_function.h>

#include <cstdint>
#include <memory>
#include <string>

namespace omnirm::testing {

class HostReadCounter {
 public:
  HostReadCounter() {
    reads() = 0;
    handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(&observe));
  }
  ~HostReadCounter() { at::removeCallback(handle_); }
  HostReadCounter(const HostReadCounter&) = delete;
  HostReadCounter& operator=(const HostReadCounter&) = delete;

  int64_t count() const { return reads(); }

 private:
  static int64_t& reads() {
    thread_local int64_t count = 0;
    return count;
  }
  static std::unique_ptr<at::ObserverContext> observe(const at::RecordFunction& fn) {
    const std::string name = fn.name();
    if (name == "aten::_local_scalar_dense" || name == "aten::item") ++reads();
    return nullptr;
  }

  at::CallbackHandle handle_;
};

}  // namespace omnirm::testing
