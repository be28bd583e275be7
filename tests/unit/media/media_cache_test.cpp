// The decoded-media cache: content keys, option keys, LRU eviction by bytes, counters,
// single decode under concurrent requests, and errors that are not cached.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "omnirm/core/error.h"
#include "omnirm/media/media_cache.h"
#include "support/test_support.h"
#include "unit/media/media_writers.h"

namespace omnirm::media {
namespace {

using namespace omnirm::media::testing;

class MediaCacheTest : public ::testing::Test {
 protected:
  std::string dir_ = omnirm::testing::make_temp_dir("media-cache");
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // A 32x32 image: 3072 decoded bytes.
  std::string image_file(const std::string& name, uint8_t red) {
    write_png(path(name), solid_image(32, 32, {red, 0, 0}));
    return path(name);
  }
};

TEST_F(MediaCacheTest, SecondRequestIsAHitAndSharesTheResult) {
  MediaCache cache(1 << 20);
  const std::string file = image_file("a.png", 10);
  const auto first = cache.image(file);
  const auto second = cache.image(file);
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(first->pixels[0], 10);
  const MediaCacheStats stats = cache.stats();
  EXPECT_EQ(stats.misses, 1);
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.entries, 1);
  EXPECT_EQ(stats.bytes, 3072);
}

TEST_F(MediaCacheTest, KeyIsContentNotName) {
  MediaCache cache(1 << 20);
  const std::string a = image_file("a.png", 10);
  std::filesystem::copy_file(a, path("copy.png"));
  const std::string other = image_file("other.png", 11);
  cache.image(a);
  cache.image(path("copy.png"));  // same bytes, other name: a hit
  cache.image(other);             // other bytes: a miss
  EXPECT_EQ(cache.stats().hits, 1);
  EXPECT_EQ(cache.stats().misses, 2);

  // Rewriting a file changes its key.
  image_file("a.png", 99);
  EXPECT_EQ(cache.image(a)->pixels[0], 99);
  EXPECT_EQ(cache.stats().misses, 3);
}

TEST_F(MediaCacheTest, OptionsArePartOfTheKey) {
  MediaCache cache(1 << 20);
  const std::string file = image_file("a.png", 10);
  EXPECT_EQ(cache.image(file, {.max_side = 0})->width, 32);
  EXPECT_EQ(cache.image(file, {.max_side = 16})->width, 16);
  EXPECT_EQ(cache.stats().misses, 2);
  EXPECT_EQ(cache.image(file, {.max_side = 16})->width, 16);
  EXPECT_EQ(cache.stats().hits, 1);
}

TEST_F(MediaCacheTest, LeastRecentlyUsedIsEvictedFirstByBytes) {
  MediaCache cache(7000);  // room for two 3072-byte images
  const std::string a = image_file("a.png", 1), b = image_file("b.png", 2),
                    c = image_file("c.png", 3);
  cache.image(a);
  cache.image(b);
  cache.image(a);  // a is now more recent than b
  cache.image(c);  // evicts b
  MediaCacheStats stats = cache.stats();
  EXPECT_EQ(stats.evictions, 1);
  EXPECT_EQ(stats.entries, 2);
  EXPECT_EQ(stats.bytes, 6144);
  cache.image(a);
  EXPECT_EQ(cache.stats().hits, stats.hits + 1);
  cache.image(b);
  EXPECT_EQ(cache.stats().misses, stats.misses + 1);
}

TEST_F(MediaCacheTest, ItemLargerThanCapacityIsReturnedButNotKept) {
  MediaCache cache(1000);
  const auto image = cache.image(image_file("a.png", 5));
  EXPECT_EQ(image->pixels.size(), 3072u);
  EXPECT_EQ(cache.stats().entries, 0);
  EXPECT_EQ(cache.stats().bytes, 0);
}

TEST_F(MediaCacheTest, ConcurrentRequestsDecodeOnce) {
  MediaCache cache(64 << 20);
  write_png(path("big.png"), gradient_image(1024, 768));
  constexpr int kThreads = 8;
  std::vector<std::shared_ptr<const Image>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { results[t] = cache.image(path("big.png")); });
  }
  for (std::thread& thread : threads) thread.join();
  for (const auto& result : results) EXPECT_EQ(result.get(), results[0].get());
  EXPECT_EQ(cache.stats().misses, 1);
  EXPECT_EQ(cache.stats().hits, kThreads - 1);
}

TEST_F(MediaCacheTest, ErrorsAreNotCached) {
  MediaCache cache(1 << 20);
  omnirm::testing::write_file(path("bad.png"), "not an image at all");
  EXPECT_THROW(cache.image(path("bad.png")), omnirm::UserError);
  EXPECT_THROW(cache.image(path("bad.png")), omnirm::UserError);
  EXPECT_EQ(cache.stats().misses, 2);
  EXPECT_EQ(cache.stats().entries, 0);
  EXPECT_THROW(cache.image(path("missing.png")), omnirm::UserError);
}

TEST_F(MediaCacheTest, EveryKindIsCached) {
  MediaCache cache(64 << 20);
  write_wav(path("tone.wav"), sine(440, 0.5, 0.5, 16000), 1, 16000);
  omnirm::testing::write_file(path("tri.obj"), "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  encode_video(path("clip.mp4"), "libx264", std::vector<Image>(4, solid_image(16, 16, {1, 2, 3})),
               2);
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(cache.audio(path("tone.wav"))->samples.size(), 8000u);
    EXPECT_EQ(cache.log_mel(path("tone.wav"))->num_frames, 50);
    EXPECT_EQ(cache.point_cloud(path("tri.obj"), {.num_points = 64})->num_points, 64);
    EXPECT_EQ(cache.video(path("clip.mp4"))->source_frame_count, 4);
  }
  EXPECT_EQ(cache.stats().misses, 4);
  EXPECT_EQ(cache.stats().hits, 4);
}

}  // namespace
}  // namespace omnirm::media
