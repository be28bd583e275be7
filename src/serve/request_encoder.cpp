// Implementation of serve/request_encoder.h.
#include "omnirm/serve/request_encoder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <system_error>

#include "omnirm/core/error.h"
#include "omnirm/data/example.h"
#include "omnirm/data/minicpmo_layout.h"
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
  if (config.model.arch == "minicpmo") {
    minicpmo_ = decoder_->minicpmo_layout();
    if (!minicpmo_) {  // no media decoding in this build: text still takes MiniCPM-o's template
      minicpmo_.emplace();
      minicpmo_->shape = [](const data::ContentPart& part) -> data::MinicpmoPartShape {
        throw UserError(part.path +
                        ": the MiniCPM-o path decodes its media itself and this build has no "
                        "media decoding (GPU build profile); use a full build");
      };
    }
  }
}

RequestEncoder::~RequestEncoder() {
  if (!scratch_dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(scratch_dir_, ignored);
  }
}

void RequestEncoder::check_lengths(const infer::ScoringRow& row) const {
  const auto prompt_length = static_cast<int64_t>(row.prompt.size());
  for (size_t i = 0; i < row.responses.size(); ++i) {
    const auto length = static_cast<int64_t>(row.responses[i].size());
    if (prompt_length + length > limits_.max_length) {
      fail("responses[" + std::to_string(i) + "]",
           "prompt (" + std::to_string(prompt_length) + " tokens, criteria and media included) + " +
               "response (" + std::to_string(length) +
               " tokens) exceed the model's max_length of " + std::to_string(limits_.max_length) +
               " tokens; shorten them");
    }
  }
  if (row.tokens() > limits_.max_request_tokens) {
    fail("responses", "the request is " + std::to_string(row.tokens()) +
                          " tokens (prompt once + every response), over the batch budget of " +
                          std::to_string(limits_.max_request_tokens) +
                          " (server option --max-batch-tokens); send fewer responses per request");
  }
}

infer::ScoringRow RequestEncoder::tokenize(const ScoreRequest& request) const {
  if (minicpmo_) return encode_minicpmo(request, false);
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
  for (const std::vector<RequestPart>& response : request.responses) {
    std::vector<int32_t> ids =
        tokenizer_.encode(text::render_response(data::render_parts(content_parts(response))));
    if (layout_) data::expand_placeholders(ids, *layout_);
    row.responses.push_back(std::move(ids));
  }
  check_lengths(row);
  return row;
}

infer::ScoringRow RequestEncoder::encode(const ScoreRequest& request) const {
  if (minicpmo_) return encode_minicpmo(request, true);
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

void RequestEncoder::check_adapter(const RequestPart& part) const {
  if (const std::string key = decoder_->missing_adapter_key(part.type); !key.empty()) {
    fail(part.field + ".type",
         "this model has no adapter for " + part.type + " media (" + key + " is 0)");
  }
}

std::string RequestEncoder::media_file(const RequestPart& part, std::string* scratch_path) const {
  if (!part.path.empty()) return resolve_path(part);
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
  *scratch_path = pattern;
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
  return pattern;
}

void RequestEncoder::decode_guarded(const RequestPart& part, const std::string& path,
                                    const std::function<void()>& decode) const {
  try {
    decode();
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

data::MediaItem RequestEncoder::decode_part(const RequestPart& part, int8_t segment) const {
  check_adapter(part);
  ScratchFile scratch;
  const std::string path = media_file(part, &scratch.path);
  data::MediaItem item;
  decode_guarded(part, path, [&] { item = decoder_->decode(part.type, path, segment); });
  return item;
}

infer::ScoringRow RequestEncoder::encode_minicpmo(const ScoreRequest& request, bool decode) const {
  const std::vector<MediaPartRef> refs = media_parts(request);
  if (!refs.empty() && !layout_) {
    fail(refs.front().part->field,
         "this model has no media adapter (model.vision_layers and audio_layers are 0); it "
         "scores text only");
  }
  // Every media part as a file first: MiniCPM-o's layout of a part depends on its decoded size.
  std::vector<ScratchFile> scratch(refs.size());
  std::map<const RequestPart*, std::string> files;
  for (size_t i = 0; i < refs.size(); ++i) {
    const RequestPart& part = *refs[i].part;
    check_adapter(part);
    const std::string path = media_file(part, &scratch[i].path);
    files[&part] = path;
    decode_guarded(part, path, [&] { minicpmo_->shape(data::ContentPart{part.type, "", path}); });
  }
  auto render = [&](const std::vector<RequestPart>& parts) {
    std::vector<data::ContentPart> out;
    for (const RequestPart& part : parts) {
      out.push_back(data::ContentPart{part.type, part.text,
                                      part.is_media() ? files.at(&part) : std::string()});
    }
    return data::minicpmo_render_parts(out, *minicpmo_);
  };
  std::vector<text::ChatTurn> turns;
  for (const RequestTurn& turn : request.turns) {
    turns.push_back(text::ChatTurn{turn.role, render(turn.content)});
  }
  infer::ScoringRow row;
  try {
    row.prompt = tokenizer_.encode(text::render_prompt_minicpmo(request.criteria, turns));
  } catch (const UserError& error) {
    throw BadRequest(error.what());  // the template's own check names prompt[i].role
  }
  for (const std::vector<RequestPart>& response : request.responses) {
    row.responses.push_back(tokenizer_.encode(text::render_response(render(response))));
  }
  check_lengths(row);
  if (decode) {
    for (const MediaPartRef& ref : refs) {
      const std::string& path = files.at(ref.part);
      decode_guarded(*ref.part, path, [&] {
        decoder_->decode_minicpmo(ref.part->type, path, ref.segment, row.media);
      });
    }
  }
  return row;
}

}  // namespace omnirm::serve
