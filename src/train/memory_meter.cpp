// Implementation of train/memory_meter.h.
#include "omnirm/train/memory_meter.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace omnirm::train {

namespace {

std::atomic<int64_t> held_bytes{0};
std::atomic<int64_t> peak_held_bytes{0};
std::atomic<int64_t> limit_bytes{0};

void note_allocation(int64_t bytes) {
  const int64_t now = held_bytes.fetch_add(bytes) + bytes;
  int64_t peak = peak_held_bytes.load();
  while (now > peak && !peak_held_bytes.compare_exchange_weak(peak, now)) {
  }
}

// The size of every live counted allocation, so that a free knows how much to subtract. The
// allocations stay "simple" (context == data), which LibTorch's raw allocation API requires.
std::mutex sizes_mutex;
std::unordered_map<void*, int64_t>* sizes = new std::unordered_map<void*, int64_t>();
c10::DeleterFnPtr inner_raw_deleter = nullptr;

void free_counted(void* data) {
  {
    std::lock_guard<std::mutex> lock(sizes_mutex);
    const auto found = sizes->find(data);
    if (found != sizes->end()) {
      held_bytes.fetch_sub(found->second);
      sizes->erase(found);
    }
  }
  inner_raw_deleter(data);
}

class CountingAllocator final : public c10::Allocator {
 public:
  explicit CountingAllocator(c10::Allocator* inner) : inner_(inner) {
    inner_raw_deleter = inner->raw_deleter();
  }

  c10::DataPtr allocate(size_t bytes) override {
    const int64_t limit = limit_bytes.load();
    if (limit > 0 && held_bytes.load() + static_cast<int64_t>(bytes) > limit) {
      TORCH_CHECK(false, "CPU memory limit: allocating ", bytes, " bytes with ", held_bytes.load(),
                  " held would exceed the limit of ", limit, " bytes (train.memory_budget_mb)");
    }
    void* data = inner_->raw_allocate(bytes);
    {
      std::lock_guard<std::mutex> lock(sizes_mutex);
      (*sizes)[data] = static_cast<int64_t>(bytes);
    }
    note_allocation(static_cast<int64_t>(bytes));
    return c10::DataPtr(data, data, &free_counted, c10::Device(c10::DeviceType::CPU));
  }

  c10::DeleterFnPtr raw_deleter() const override { return &free_counted; }

  void copy_data(void* dest, const void* src, std::size_t count) const override {
    std::memcpy(dest, src, count);
  }

 private:
  c10::Allocator* inner_;
};

}  // namespace

CpuMemoryMeter& CpuMemoryMeter::instance() {
  // Never destroyed: tensors counted by the allocator may outlive every other static.
  static CpuMemoryMeter* meter = [] {
    // The default allocator frees raw pointers itself (raw_deleter), which the wrapper needs.
    static auto* allocator = new CountingAllocator(c10::GetDefaultCPUAllocator());
    c10::SetCPUAllocator(allocator, /*priority=*/100);
    return new CpuMemoryMeter();
  }();
  return *meter;
}

int64_t CpuMemoryMeter::current_bytes() const { return held_bytes.load(); }

int64_t CpuMemoryMeter::peak_bytes() const { return peak_held_bytes.load(); }

void CpuMemoryMeter::set_limit(int64_t bytes) { limit_bytes.store(bytes); }

void CpuMemoryMeter::reset_peak() { peak_held_bytes.store(held_bytes.load()); }

}  // namespace omnirm::train
