// write_synth_set: train.jsonl, eval.jsonl and corpus.txt under one directory. Each file is
// written under a temporary name and renamed into place, so an interrupted run leaves
// either the previous file or the complete new one, never a partial file.
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/synth.h"

namespace omnirm::data {
namespace {

namespace fs = std::filesystem;

// Writes `lines`, each followed by '\n', to `path` through `path` + ".tmp".
void write_lines_atomically(const fs::path& path, const std::vector<std::string>& lines) {
  const fs::path temporary = fs::path(path.string() + ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw UserError("cannot write '" + temporary.string() +
                      "'; check that the output directory is writable");
    }
    for (const std::string& line : lines) {
      out.write(line.data(), static_cast<std::streamsize>(line.size()));
      out.put('\n');
    }
    out.flush();
    if (!out) {
      throw UserError("writing '" + temporary.string() + "' failed; check free disk space");
    }
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    throw UserError("cannot move '" + temporary.string() + "' to '" + path.string() +
                    "': " + error.message() + "; check the output directory");
  }
}

std::vector<std::string> json_lines(const std::vector<Example>& examples) {
  std::vector<std::string> lines;
  lines.reserve(examples.size());
  for (const Example& example : examples) lines.push_back(to_json_line(example));
  return lines;
}

}  // namespace

void write_synth_set(const SynthSet& set, const std::string& out_dir) {
  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error || !fs::is_directory(out_dir)) {
    throw UserError("cannot create output directory '" + out_dir +
                    "': " + (error ? error.message() : std::string("not a directory")) +
                    "; choose another path");
  }
  const fs::path root(out_dir);
  write_lines_atomically(root / "train.jsonl", json_lines(set.train));
  write_lines_atomically(root / "eval.jsonl", json_lines(set.eval));
  write_lines_atomically(root / "corpus.txt", set.tokenizer_corpus);
}

}  // namespace omnirm::data
