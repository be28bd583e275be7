// Missing, truncated (a valid file cut in half), corrupt (random bytes under a valid
// extension) and wrong-kind files: every decoder answers with one line naming the path.
#include <gtest/gtest.h>

#include <filesystem>

#include "omnirm/media/audio.h"
#include "omnirm/media/image.h"
#include "omnirm/media/point_cloud.h"
#include "omnirm/media/video.h"
#include "support/test_support.h"
#include "unit/media/media_expect.h"
#include "unit/media/media_writers.h"

namespace omnirm::media {
namespace {

using namespace omnirm::media::testing;

class MediaBadFiles : public ::testing::Test {
 protected:
  std::string dir_ = omnirm::testing::make_temp_dir("media-bad");
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string cut(const std::string& source, const std::string& name) {
    write_first_half(source, path(name));
    return path(name);
  }
  std::string noise(const std::string& name) {
    write_random_bytes(path(name), 4096, 1234);
    return path(name);
  }
};

TEST_F(MediaBadFiles, MissingFiles) {
  const std::string missing = path("nowhere/missing");
  expect_media_error(user_error_of([&] { decode_image(missing + ".png"); }), missing + ".png",
                     "not found");
  expect_media_error(user_error_of([&] { decode_audio(missing + ".wav"); }), missing + ".wav",
                     "not found");
  expect_media_error(user_error_of([&] { decode_video(missing + ".mp4"); }), missing + ".mp4",
                     "not found");
  expect_media_error(user_error_of([&] { decode_point_cloud(missing + ".ply"); }), missing + ".ply",
                     "not found");
}

TEST_F(MediaBadFiles, TruncatedImages) {
  write_png(path("full.png"), gradient_image(64, 64));
  write_jpeg(path("full.jpg"), gradient_image(64, 64), 90);
  write_webp(path("full.webp"), gradient_image(64, 64), false);
  const std::string png = cut(path("full.png"), "half.png");
  const std::string jpg = cut(path("full.jpg"), "half.jpg");
  const std::string webp = cut(path("full.webp"), "half.webp");
  expect_media_error(user_error_of([&] { decode_image(png); }), png, "truncated PNG");
  expect_media_error(user_error_of([&] { decode_image(jpg); }), jpg, "truncated JPEG");
  expect_media_error(user_error_of([&] { decode_image(webp); }), webp, "truncated WebP");
}

TEST_F(MediaBadFiles, CorruptImages) {
  const std::string png = noise("noise.png");
  expect_media_error(user_error_of([&] { decode_image(png); }), png, "not a PNG, JPEG or WebP");
  // A flipped bit inside the pixel data of a real PNG fails the chunk CRC.
  write_png(path("flipped.png"), gradient_image(16, 16));
  std::vector<uint8_t> bytes = read_bytes(path("flipped.png"));
  bytes[bytes.size() - 20] ^= 0x10;
  write_bytes(path("flipped.png"), bytes);
  expect_media_error(user_error_of([&] { decode_image(path("flipped.png")); }), path("flipped.png"),
                     "CRC");
  omnirm::testing::write_file(path("empty.jpg"), "");
  expect_media_error(user_error_of([&] { decode_image(path("empty.jpg")); }), path("empty.jpg"),
                     "empty");
}

TEST_F(MediaBadFiles, WrongKindImage) {
  write_wav(path("tone.png"), sine(440, 0.5, 0.1, 16000), 1, 16000);
  expect_media_error(user_error_of([&] { decode_image(path("tone.png")); }), path("tone.png"),
                     "is a WAV audio file, not an image");
}

TEST_F(MediaBadFiles, TruncatedAudio) {
  write_wav(path("full.wav"), sine(440, 0.5, 1.0, 16000), 1, 16000);
  encode_audio(path("full.flac"), "flac", sine(440, 0.5, 1.0, 16000), 1, 16000);
  const std::string wav = cut(path("full.wav"), "half.wav");
  const std::string flac = cut(path("full.flac"), "half.flac");
  expect_media_error(user_error_of([&] { decode_audio(wav); }), wav, "truncated audio");
  expect_media_error(user_error_of([&] { decode_audio(flac); }), flac, "truncated audio");
  // Longer files whose headers survive the cut: the decoded length falls short of the
  // declared one (FLAC STREAMINFO, the MP3 encoder's Info frame).
  encode_audio(path("long.flac"), "flac", sine(440, 0.5, 3.0, 44100), 1, 44100);
  encode_audio(path("long.mp3"), "libmp3lame", sine(440, 0.5, 3.0, 44100), 1, 44100);
  const std::string long_flac = cut(path("long.flac"), "half_long.flac");
  const std::string long_mp3 = cut(path("long.mp3"), "half_long.mp3");
  expect_media_error(user_error_of([&] { decode_audio(long_flac); }), long_flac, "truncated audio");
  expect_media_error(user_error_of([&] { decode_audio(long_mp3); }), long_mp3, "truncated audio");
}

TEST_F(MediaBadFiles, CorruptAndWrongKindAudio) {
  const std::string wav = noise("noise.wav");
  expect_media_error(user_error_of([&] { decode_audio(wav); }), wav, "not a WAV, FLAC or MP3");
  write_png(path("picture.wav"), solid_image(8, 8, {1, 2, 3}));
  expect_media_error(user_error_of([&] { decode_audio(path("picture.wav")); }), path("picture.wav"),
                     "is a PNG image file, not audio");
  // A video without an audio track.
  encode_video(path("silent.mp4"), "libx264", {solid_image(16, 16, {0, 0, 0})}, 1);
  expect_media_error(user_error_of([&] { decode_audio(path("silent.mp4")); }), path("silent.mp4"),
                     "no audio stream");
}

TEST_F(MediaBadFiles, TruncatedVideo) {
  std::vector<Image> frames(20, gradient_image(64, 48));
  encode_video(path("full.mp4"), "libx264", frames, 10);
  encode_video(path("full.webm"), "libvpx", frames, 10);
  const std::string mp4 = cut(path("full.mp4"), "half.mp4");
  const std::string webm = cut(path("full.webm"), "half.webm");
  // MP4 keeps its index at the end: the cut file cannot be opened at all.
  expect_media_error(user_error_of([&] { decode_video(mp4); }), mp4, "cannot be read as video");
  expect_media_error(user_error_of([&] { decode_video(webm); }), webm, "truncated video");
}

TEST_F(MediaBadFiles, CorruptAndWrongKindVideo) {
  const std::string mp4 = noise("noise.mp4");
  expect_media_error(user_error_of([&] { decode_video(mp4); }), mp4, "not an MP4 or WebM video");
  write_wav(path("tone.mp4"), sine(440, 0.5, 0.2, 16000), 1, 16000);
  expect_media_error(user_error_of([&] { decode_video(path("tone.mp4")); }), path("tone.mp4"),
                     "is a WAV audio file, not a video");
  std::filesystem::create_directories(path("no_frames"));
  expect_media_error(user_error_of([&] { decode_video(path("no_frames")); }), path("no_frames"),
                     "no PNG, JPEG or WebP");
}

TEST_F(MediaBadFiles, TruncatedMeshes) {
  std::string ascii =
      "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\n"
      "property float z\nelement face 4\nproperty list uchar int vertex_indices\n"
      "end_header\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n";
  omnirm::testing::write_file(path("full_ascii.ply"), ascii);
  const std::string half_ascii = cut(path("full_ascii.ply"), "half_ascii.ply");
  expect_media_error(user_error_of([&] { decode_point_cloud(half_ascii); }), half_ascii,
                     "truncated PLY (ends inside its header)");
  std::string cloud =
      "ply\nformat ascii 1.0\nelement vertex 100\nproperty float x\n"
      "property float y\nproperty float z\nend_header\n";
  for (int i = 0; i < 100; ++i) cloud += std::to_string(i) + " 0.5 -0.25\n";
  omnirm::testing::write_file(path("cloud.ply"), cloud);
  const std::string half_cloud = cut(path("cloud.ply"), "half_cloud.ply");
  expect_media_error(user_error_of([&] { decode_point_cloud(half_cloud); }), half_cloud,
                     "truncated");

  // Binary: Assimp itself does not return on this one, so the pre-check must catch it.
  std::string binary =
      "ply\nformat binary_little_endian 1.0\nelement vertex 4\nproperty float x\n"
      "property float y\nproperty float z\nelement face 4\n"
      "property list uchar int vertex_indices\nend_header\n";
  const std::string header_only = binary;
  binary.append(48, '\0');
  for (int f = 0; f < 4; ++f) binary.append("\x03\0\0\0\0\x01\0\0\0\x02\0\0\0", 13);
  omnirm::testing::write_file(path("half_binary.ply"), binary.substr(0, header_only.size() + 40));
  expect_media_error(user_error_of([&] { decode_point_cloud(path("half_binary.ply")); }),
                     path("half_binary.ply"), "truncated PLY");
}

TEST_F(MediaBadFiles, CorruptAndWrongKindMeshes) {
  const std::string ply = noise("noise.ply");
  expect_media_error(user_error_of([&] { decode_point_cloud(ply); }), ply, "not a PLY file");
  const std::string obj = noise("noise.obj");
  const std::string message = user_error_of([&] { decode_point_cloud(obj); });
  EXPECT_EQ(message.rfind(obj + ": ", 0), 0u) << message;
  write_png(path("render.obj"), solid_image(8, 8, {1, 2, 3}));
  expect_media_error(user_error_of([&] { decode_point_cloud(path("render.obj")); }),
                     path("render.obj"), "is a PNG image file, not a 3D file");
  omnirm::testing::write_file(path("point.obj"), "v 1 2 3\nv 1 2 3\n");
  expect_media_error(user_error_of([&] { decode_point_cloud(path("point.obj")); }),
                     path("point.obj"), "one place");
}

}  // namespace
}  // namespace omnirm::media
