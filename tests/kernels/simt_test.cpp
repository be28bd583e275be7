// The SIMT executor behind the kernel emulation (tests/kernels/emulation/simt.h): barriers
// order shared-memory traffic, warp collectives see every lane's contribution, asynchronous
// copies land when the options say, and the faults a GPU would hang or corrupt on (a barrier
// some lanes never reach, a shared access out of range or misaligned) stop the launch with a
// message.
#include <gtest/gtest.h>

#ifdef OMNIRM_KERNEL_EMULATION

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "simt.h"

namespace {

constexpr uint32_t kFill = 0xFFFFFFFFu;  // what shared memory holds before anything is written

std::string launch_error(simt::Dim3 block, size_t shared_bytes,
                         const std::function<void()>& kernel) {
  std::vector<unsigned char> shared(shared_bytes);
  try {
    simt::launch(simt::Dim3{}, block, shared.data(), shared.size(), simt::LaunchOptions{}, kernel);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

// Each thread stores its index in shared memory and reads its neighbour's.
std::vector<uint32_t> neighbour_reads(bool with_barrier, uint64_t seed) {
  constexpr unsigned kThreads = 128;
  std::vector<unsigned char> shared(kThreads * 4);
  std::vector<uint32_t> reads(kThreads);
  simt::LaunchOptions options;
  options.schedule_seed = seed;
  simt::launch(simt::Dim3{}, simt::Dim3{kThreads, 1, 1}, shared.data(), shared.size(), options,
               [&] {
                 const uint32_t self = simt::thread_index().x;
                 std::memcpy(simt::shared_at(4 * self, 4, 4), &self, 4);
                 if (with_barrier) {
                   simt::sync_block();
                 }
                 const uint32_t other = (self + 1) % kThreads;
                 std::memcpy(&reads[self], simt::shared_at(4 * other, 4, 4), 4);
               });
  return reads;
}

TEST(Simt, ABlockBarrierOrdersSharedMemory) {
  for (const uint64_t seed : {0u, 3u, 11u}) {
    const std::vector<uint32_t> reads = neighbour_reads(true, seed);
    for (uint32_t i = 0; i < reads.size(); ++i) {
      ASSERT_EQ(reads[i], (i + 1) % reads.size()) << "thread " << i << ", seed " << seed;
    }
  }
  // Without the barrier, thread 0 runs to the end before thread 1 has stored anything.
  EXPECT_EQ(neighbour_reads(false, 0)[0], kFill);
}

TEST(Simt, WarpCollectivesSeeEveryLane) {
  constexpr unsigned kThreads = 64;
  std::vector<int> results(kThreads);
  std::vector<unsigned char> shared(16);
  simt::LaunchOptions options;
  options.schedule_seed = 7;
  simt::launch(simt::Dim3{2, 1, 1}, simt::Dim3{kThreads, 1, 1}, shared.data(), shared.size(),
               options, [&] {
                 const int self = static_cast<int>(simt::thread_index().x);
                 const int block = static_cast<int>(simt::block_index().x);
                 const int mine = 1000 * block + self;
                 const int got = simt::warp_collective(
                     mine, [](int lane, const int* values) { return values[lane ^ 5]; });
                 if (block == 1) {
                   results[static_cast<size_t>(self)] = got;
                 }
               });
  for (int i = 0; i < static_cast<int>(kThreads); ++i) {
    EXPECT_EQ(results[static_cast<size_t>(i)], 1000 + (i ^ 5)) << "thread " << i;
  }
}

TEST(Simt, CopiesLandAtTheWaitOrWhenIssued) {
  const std::array<uint32_t, 4> source = {1, 2, 3, 4};
  for (const simt::CopyTiming timing : {simt::CopyTiming::kAtWait, simt::CopyTiming::kAtIssue}) {
    std::vector<unsigned char> shared(32);
    std::array<uint32_t, 3> seen{};  // before the wait, after it, the zero-filled copy
    simt::LaunchOptions options;
    options.copy_timing = timing;
    simt::launch(simt::Dim3{}, simt::Dim3{32, 1, 1}, shared.data(), shared.size(), options, [&] {
      if (simt::thread_index().x != 0) {
        return;
      }
      simt::async_copy(0, source.data(), 16, true);
      simt::async_copy(16, source.data(), 16, false);
      simt::async_commit();
      std::memcpy(&seen[0], simt::shared_at(4, 4, 4), 4);
      simt::async_wait(0);
      std::memcpy(&seen[1], simt::shared_at(4, 4, 4), 4);
      std::memcpy(&seen[2], simt::shared_at(16, 4, 4), 4);
    });
    EXPECT_EQ(seen[0], timing == simt::CopyTiming::kAtWait ? kFill : 2u);
    EXPECT_EQ(seen[1], 2u);
    EXPECT_EQ(seen[2], 0u);
  }
}

TEST(Simt, ExitedThreadsDoNotHoldUpABlockBarrier) {
  EXPECT_EQ(launch_error(simt::Dim3{64, 1, 1}, 16,
                         [] {
                           if (simt::thread_index().x >= 32) {
                             return;
                           }
                           simt::sync_block();
                         }),
            "");
}

TEST(Simt, AWarpCollectiveSomeLanesNeverReachIsADeadlock) {
  const std::string error = launch_error(simt::Dim3{32, 1, 1}, 16, [] {
    if (simt::thread_index().x < 16) {
      return;
    }
    simt::warp_collective(1, [](int, const int* values) { return values[0]; });
  });
  EXPECT_NE(error.find("deadlock"), std::string::npos) << error;
}

TEST(Simt, SharedAccessesOutOfRangeOrMisalignedStopTheLaunch) {
  const std::string beyond =
      launch_error(simt::Dim3{32, 1, 1}, 64, [] { simt::shared_at(56, 16, 16); });
  EXPECT_NE(beyond.find("beyond the 64 bytes"), std::string::npos) << beyond;
  const std::string misaligned =
      launch_error(simt::Dim3{32, 1, 1}, 64, [] { simt::shared_at(8, 16, 16); });
  EXPECT_NE(misaligned.find("not 16-byte aligned"), std::string::npos) << misaligned;
}

}  // namespace

#endif  // OMNIRM_KERNEL_EMULATION
