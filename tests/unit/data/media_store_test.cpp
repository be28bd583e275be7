// The decoded-media store: what is put reads back exactly; keys follow the bytes of a file (or
// of every file of a frame directory) and the decode settings, not the path; entries that do not
// read back whole (cut short, another key under the name, a foreign file) count as absent; a
// directory that cannot be made is refused naming data.media_store.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/data/media_store.h"
#include "support/test_support.h"

namespace omnirm::data {
namespace {

namespace fs = std::filesystem;

MediaItem item_of(std::vector<int64_t> shape, float first) {
  int64_t count = 1;
  for (const int64_t size : shape) count *= size;
  auto values = std::make_shared<std::vector<float>>(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) (*values)[size_t(i)] = first + 0.25f * float(i);
  MediaItem item;
  item.kind = MediaKind::audio;
  item.shape = std::move(shape);
  item.values = std::move(values);
  return item;
}

TEST(MediaStore, WhatIsPutReadsBackExactly) {
  const std::string dir = testing::make_temp_dir("media-store");
  testing::write_file(dir + "/clip.wav", "RIFF fake audio bytes");
  MediaStore store(dir + "/store");
  const std::string key = MediaStore::key_of(dir + "/clip.wav", MediaKind::audio, "mels=80");
  EXPECT_FALSE(store.find(key).has_value());
  const MediaItem item = item_of({2, 3, 5}, -1.5f);
  store.put(key, item);
  const std::optional<MediaItem> back = store.find(key);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, MediaKind::audio);
  EXPECT_EQ(back->shape, item.shape);
  EXPECT_EQ(*back->values, *item.values);
  const MediaStoreStats stats = store.stats();
  EXPECT_EQ(stats.writes, 1);
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 1);
  // A second store over the same directory (another run, another machine) finds it too.
  MediaStore again(dir + "/store");
  EXPECT_TRUE(again.find(key).has_value());
  fs::remove_all(dir);
}

TEST(MediaStore, KeysFollowContentAndSettingsNotPaths) {
  const std::string dir = testing::make_temp_dir("media-store-keys");
  testing::write_file(dir + "/a.png", "same bytes");
  testing::write_file(dir + "/elsewhere/b.png", "same bytes");
  testing::write_file(dir + "/c.png", "other bytes");
  const auto key = [&](const std::string& name, const std::string& settings) {
    return MediaStore::key_of(dir + "/" + name, MediaKind::image, settings);
  };
  EXPECT_EQ(key("a.png", "size=32"), key("elsewhere/b.png", "size=32"));
  EXPECT_NE(key("a.png", "size=32"), key("c.png", "size=32"));
  EXPECT_NE(key("a.png", "size=32"), key("a.png", "size=64"));
  EXPECT_NE(key("a.png", "size=32"),
            MediaStore::key_of(dir + "/a.png", MediaKind::video, "size=32"));
  // A frame directory: names and contents of its files.
  testing::write_file(dir + "/frames/f0.png", "frame zero");
  testing::write_file(dir + "/frames/f1.png", "frame one");
  const std::string frames = key("frames", "size=32");
  testing::write_file(dir + "/frames/f1.png", "frame one, changed");
  EXPECT_NE(key("frames", "size=32"), frames);
  EXPECT_THROW(key("missing.png", "size=32"), UserError);
  fs::remove_all(dir);
}

TEST(MediaStore, EntriesThatDoNotReadBackWholeAreAbsent) {
  const std::string dir = testing::make_temp_dir("media-store-broken");
  MediaStore store(dir);
  const std::string key = "audio|0123456789abcdef|10|mels=80";
  store.put(key, item_of({4, 4}, 0.0f));
  ASSERT_TRUE(store.find(key).has_value());
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
  ASSERT_EQ(files.size(), 1u);  // no temporary file is left behind
  const std::string whole = testing::read_file(files[0].string());
  // Cut short, as a copy interrupted half-way would leave it.
  testing::write_file(files[0].string(), whole.substr(0, whole.size() - 4));
  EXPECT_FALSE(store.find(key).has_value());
  // Not a store entry at all.
  testing::write_file(files[0].string(), "something else entirely");
  EXPECT_FALSE(store.find(key).has_value());
  // Another key's entry under this name.
  testing::write_file(files[0].string(), whole);
  std::string other = whole;
  other[other.find("mels=80")] = 'M';
  testing::write_file(files[0].string(), other);
  EXPECT_FALSE(store.find(key).has_value());
  fs::remove_all(dir);
}

TEST(MediaStore, AnUncreatableDirectoryIsRefused) {
  const std::string dir = testing::make_temp_dir("media-store-file");
  testing::write_file(dir + "/occupied", "a file where the store should go");
  try {
    MediaStore store(dir + "/occupied/store");
    ADD_FAILURE() << "a store under a regular file was accepted";
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find("data.media_store"), std::string::npos);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace omnirm::data
