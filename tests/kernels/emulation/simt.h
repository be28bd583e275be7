// A small SIMT executor that runs CUDA kernel code on the host, for tests: every thread of a
// block is a fiber on the calling thread, blocks run one after another, and the operations
// that involve several threads (block and warp barriers, shuffles, the warp-wide matrix loads
// and products) are warp or block collectives in which each fiber waits until every
// participant has arrived. Scheduling is cooperative, so the only interleavings are those the
// kernel's own synchronisation allows; an optional seed shuffles the order in which fibers
// resume and lets warps run ahead of each other by random amounts. Asynchronous global→shared
// copies land either when issued or at the issuing thread's wait, so a missing barrier or wait
// shows up as wrong results under one of the two.
//
// Errors a GPU would turn into hangs or undefined behaviour (a barrier some thread never
// reaches, a shared-memory access out of range or misaligned) stop the launch: launch() throws
// std::runtime_error with a one-line description.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

namespace simt {

struct Dim3 {
  unsigned x = 1;
  unsigned y = 1;
  unsigned z = 1;
};

enum class CopyTiming { kAtIssue, kAtWait };

struct LaunchOptions {
  CopyTiming copy_timing = CopyTiming::kAtWait;
  // 0: round robin; otherwise threads resume in a shuffled order and warps at random speeds.
  uint64_t schedule_seed = 0;
};

// Runs `kernel` once per thread of every block of `grid` (block.x threads, a multiple of 32
// and at most 1024; block.y = block.z = 1). `shared` is the block's shared memory (the storage
// the kernel's __shared__ declarations name), `shared_bytes` long; it is filled with 0xFF bytes
// (NaN in 16-bit floats) at the start of each block.
void launch(Dim3 grid, Dim3 block, unsigned char* shared, size_t shared_bytes,
            const LaunchOptions& options, const std::function<void()>& kernel);

// Inside a kernel.
Dim3 thread_index();
Dim3 block_index();
Dim3 grid_dim();
Dim3 block_dim();
void sync_block();  // __syncthreads
void sync_warp();   // __syncwarp with a full mask

// The byte offset of a pointer into the block's shared memory (the "shared address" of PTX),
// and the memory at an offset for an access of `bytes` bytes that must be `alignment`-aligned.
uint32_t shared_offset(const void* pointer);
unsigned char* shared_at(uint32_t offset, uint32_t bytes, uint32_t alignment);

// Asynchronous copy of `bytes` (4, 8 or 16) from global memory to shared memory at `offset`,
// zero-filled when !valid; commit closes a group, wait(n) lands all but the last n groups.
void async_copy(uint32_t offset, const void* source, uint32_t bytes, bool valid);
void async_commit();
void async_wait(int pending_groups);

// Stops the launch with `message` (launch() throws it).
[[noreturn]] void fail(const std::string& message);

namespace detail {
constexpr size_t kSlotBytes = 64;
// Stores this lane's contribution, waits for the whole warp, returns the 32 contributions.
const unsigned char* warp_exchange(const void* mine, size_t bytes);
int lane();
}  // namespace detail

// A warp collective: every lane of the warp contributes `mine` (trivially copyable, at most 64
// bytes); once all have, each lane gets combine(lane, inputs), inputs[l] being lane l's.
template <typename In, typename Combine>
auto warp_collective(const In& mine, Combine&& combine) {
  static_assert(sizeof(In) <= detail::kSlotBytes, "warp collective contribution too large");
  const unsigned char* slots = detail::warp_exchange(&mine, sizeof(In));
  In inputs[32];
  for (int l = 0; l < 32; ++l) {
    std::memcpy(&inputs[l], slots + l * detail::kSlotBytes, sizeof(In));
  }
  return combine(detail::lane(), inputs);
}

}  // namespace simt
