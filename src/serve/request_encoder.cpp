// Implementation of serve/request_encoder.h.
#include "omnirm/serve/request_encoder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "omnirm/core/error.h"
#include "omnirm/data/example.h"
#include "omnirm/text/chat_template.h"

namespace omnirm::serve {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& field, const std::string& what, int status = 400) {
  throw BadRequest(field + ": " + what, status);
}

std::vector<data::ContentPart> content_parts(const std::vector<RequestPart>& parts) {
  std::vector<data::ContentPart> out;
  out.reserve(parts.size());
  for (const RequestPart& part : parts) out.push_back(data::ContentPart{part.type, part.text, ""});
  return out;
}

// The file name ending an inline mesh needs (the 3D importers choose by it); other media are
// recognised from their bytes alone.
std::string mesh_suffix(const std::string& bytes) {
  if (bytes.starts_with("ply")) return ".ply";
  if (bytes.starts_with("glTF")) return ".glb";
  if (bytes.starts_with("solid")) return ".stl";
  // Wavefront OBJ is text whose lines start with a keyword ("v 0 0 0", "f 1 2 3", "# ...").
  const size_t probe = std::min<size_t>(bytes.size(), 512);
  for (size_t i = 0; i < probe; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) return ".stl";  // binary
  }
  return ".obj";
}

// Removes a scratch file when it goes out of scope.
struct ScratchFile {
  std::string path;
  ~ScratchFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

}  // namespace

RequestEncoder::RequestEncoder(const Config& config, const text::Tokenizer& tokenizer,
                               std::string media_root, const RequestLimits& limits)
    : tokenizer_(tokenizer), layout_(infer::media_layout_for(config, tokenizer)), limits_(limits) {
  if (!media_root.empty()) {
    std::error_code error;
    const fs::path root = fs::canonical(media_root, error);
    if (error || !fs::is_directory(root)) {
      throw UserError("--media-root " + media_root +
                      ": not a directory; give the directory "
                      "that media paths in requests are relative to");
    }
    media_root_ = root.string();
  }
  media::MediaLimits media_limits;
  media_limits.max_file_bytes = limits.max_media_bytes;
  decoder_ = std::make_unique<infer::MediaDecoder>(config, media_limits);
}

RequestEncoder::~RequestEncoder() {
  if (!scratch_dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(scratch_dir_, ignored);
  }
}

infer::ScoringRow RequestEncoder::tokenize(const ScoreRequest& request) const {
  const bool has_media = !media_parts(request).empty();
  if (has_media && !layout_) {
    const RequestPart& part = *media_parts(request).front().part;
    fail(part.field,
         "this model has no media adapter (model.vision_layers, audio_layers and "
         "point_layers are 0); it scores text only");
  }
  std::vector<text::ChatTurn> turns;
  for (const RequestTurn& turn : request.turns) {
    turns.push_back(text::ChatTurn{turn.role, data::render_parts(content_parts(turn.content))});
  }
  infer::ScoringRow row;
  try {
    row.prompt = tokenizer_.encode(text::render_prompt(request.criteria, turns));
  } catch (const UserError& error) {
    throw BadRequest(error.what());  // the template's own check names prompt[i].role
  }
  if (layout_) data::expand_placeholders(row.prompt, *layout_);
  const auto prompt_length = static_cast<int64_t>(row.prompt.size());
  for (size_t i = 0; i < request.responses.size(); ++i) {
    std::vector<int32_t> ids = tokenizer_.encode(
        text::render_response(data::render_parts(content_parts(request.responses[i]))));
    if (layout_) data::expand_placeholders(ids, *layout_);
    const auto length = static_cast<int64_t>(ids.size());
    if (prompt_length + length > limits_.max_length) {
      fail("responses[" + std::to_string(i) + "]",
           "prompt (" + std::to_string(prompt_length) + " tokens, criteria and media included) + " +
               "response (" + std::to_string(length) +
               " tokens) exceed the model's max_length of " + std::to_string(limits_.max_length) +
               " tokens; shorten them");
    }
    row.responses.push_back(std::move(ids));
  }
  if (row.tokens() > limits_.max_request_tokens) {
    fail("responses", "the request is " + std::to_string(row.tokens()) +
                          " tokens (prompt once + every response), over the batch budget of " +
                          std::to_string(limits_.max_request_tokens) +
                          " (server option --max-batch-tokens); send fewer responses per request");
  }
  return row;
}

infer::ScoringRow RequestEncoder::encode(const ScoreRequest& request) const {
  infer::ScoringRow row = tokenize(request);
  for (const MediaPartRef& ref : media_parts(request)) {
    row.media.push_back(decode_part(*ref.part, ref.segment));
  }
  return row;
}

std::string RequestEncoder::resolve_path(const RequestPart& part) const {
  // The relative path was checked when parsed (no absolute path, no ".."); a symbolic link
  // under the root must not lead out of it either.
  std::error_code error;
  const fs::path resolved = fs::weakly_canonical(fs::path(media_root_) / part.path, error);
  const fs::path relative = resolved.lexically_relative(media_root_);
  if (error || relative.empty() || *relative.begin() == "..") {
    fail(part.field + ".path", "'" + part.path + "' resolves outside --media-root");
  }
  if (!fs::is_regular_file(resolved, error)) {
    fail(part.field + ".path", "'" + part.path + "' not found under --media-root");
  }
  return resolved.string();
}

data::MediaItem RequestEncoder::decode_part(const RequestPart& part, int8_t segment) const {
  if (const std::string key = decoder_->missing_adapter_key(part.type); !key.empty()) {
    fail(part.field + ".type",
         "this model has no adapter for " + part.type + " media (" + key + " is 0)");
  }
  ScratchFile scratch;
  std::string path;
  if (!part.path.empty()) {
    path = resolve_path(part);
  } else {
    {
      std::lock_guard<std::mutex> lock(scratch_mutex_);
      if (scratch_dir_.empty()) {
        std::string pattern = (fs::temp_directory_path() / "omnirm-serve-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
          throw std::runtime_error(std::string("cannot create a scratch directory for inline "
                                               "media: ") +
                                   std::strerror(errno));
        }
        scratch_dir_ = pattern;
      }
    }
    const std::string suffix = part.type == "mesh" ? mesh_suffix(part.data) : ".media";
    std::string pattern = scratch_dir_ + "/part-XXXXXX" + suffix;
    const int fd = ::mkstemps(pattern.data(), static_cast<int>(suffix.size()));
    if (fd < 0) {
      throw std::runtime_error(std::string("cannot write inline media: ") + std::strerror(errno));
    }
    scratch.path = pattern;
    size_t written = 0;
    while (written < part.data.size()) {
      const ssize_t n = ::write(fd, part.data.data() + written, part.data.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd);
        throw std::runtime_error(std::string("cannot write inline media: ") + std::strerror(errno));
      }
      written += static_cast<size_t>(n);
    }
    ::close(fd);
    path = scratch.path;
  }
  try {
    return decoder_->decode(part.type, path, segment);
  } catch (const UserError& error) {
    // The decoder names the file; a client knows its part by the field, and an inline part's
    // scratch name means nothing to it.
    std::string what = error.what();
    if (what.starts_with(path)) what = what.substr(path.size());
    if (what.starts_with(": ")) what = what.substr(2);
    fail(part.field, part.type + (part.path.empty() ? "" : " '" + part.path + "'") + ": " + what);
  } catch (const std::exception& error) {
    fail(part.field, part.type + " cannot be decoded: " + error.what());
  }
}

}  // namespace omnirm::serve
