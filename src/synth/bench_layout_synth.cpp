// write_bench_layout: draws eval-split pairs and criteria draws from the task generators (and
// t2t pairs from data::synthesize), turns each into an Omni-RewardBench record and writes the
// per-task files, the media (through one pool rooted at media_data/) and the text corpus.
#include "omnirm/synth/bench_layout_synth.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "omnirm/core/error.h"
#include "omnirm/data/synth.h"
#include "omnirm/synth/omni_synth.h"
#include "synth_common.h"
#include "task_families.h"

namespace omnirm::synth {
namespace {

namespace fs = std::filesystem;
using detail::Split;
using Json = nlohmann::ordered_json;

// Random streams of this generator, apart from those write_omni_synth uses.
constexpr uint64_t kFirstStream = 96;
constexpr const char* kNeutralCriteria[] = {
    "Both kinds of answer are acceptable here; judge only whether it is correct.",
    "Any correct response is equally good; style and size do not matter.",
    "Judge correctness only; the two presentations are equally fine."};

std::unique_ptr<detail::TaskGenerator> make_generator(const std::string& task,
                                                      const detail::TaskSetup& setup) {
  if (task == "ti2t") return detail::make_ti2t(setup);
  if (task == "tv2t") return detail::make_tv2t(setup);
  if (task == "ta2t") return detail::make_ta2t(setup);
  if (task == "t2i") return detail::make_t2i(setup);
  if (task == "t2v") return detail::make_t2v(setup);
  if (task == "t2a") return detail::make_t2a(setup);
  if (task == "t23d") return detail::make_t23d(setup);
  return detail::make_ti2i(setup);
}

// The one media part of `parts`, if any.
const data::ContentPart* media_of(const std::vector<data::ContentPart>& parts) {
  for (const data::ContentPart& part : parts) {
    if (part.type != "text") return &part;
  }
  return nullptr;
}

// t23d responses in the benchmark are multi-view render images: meshes do not qualify.
bool fits_layout(const std::string& task, const data::Example& example) {
  if (task != "t23d") return true;
  const data::ContentPart* chosen = media_of(example.chosen);
  const data::ContentPart* rejected = media_of(example.rejected);
  return chosen != nullptr && rejected != nullptr && chosen->type == "views" &&
         rejected->type == "views";
}

bool same_response(const data::Example& example) {
  return data::text_of(example.chosen) == data::text_of(example.rejected) &&
         media_of(example.chosen) != nullptr && media_of(example.rejected) != nullptr &&
         media_of(example.chosen)->path == media_of(example.rejected)->path;
}

// One benchmark record. `first_preferred` puts the chosen response first; a tie keeps order.
Json bench_record(const std::string& task, const data::Example& example, const std::string& id,
                  const std::string& preference) {
  Json record;
  record["id"] = id;
  const std::vector<data::ContentPart>& prompt = example.prompt.back().content;
  record["prompt"] = data::text_of(prompt);
  if (const data::ContentPart* medium = media_of(prompt)) {
    record[medium->type == "video"   ? "video"
           : medium->type == "audio" ? "audio"
                                     : "image"] = medium->path;
  }
  const bool swap = preference == "response2";
  const std::vector<data::ContentPart>& first = swap ? example.rejected : example.chosen;
  const std::vector<data::ContentPart>& second = swap ? example.chosen : example.rejected;
  const data::ContentPart* first_medium = media_of(first);
  if (first_medium == nullptr) {
    record["response1"] = data::text_of(first);
    record["response2"] = data::text_of(second);
  } else if (task == "t2v") {  // the benchmark keeps T2V video paths in response1/2
    record["response1"] = first_medium->path;
    record["response2"] = media_of(second)->path;
  } else {
    record["response1_path"] = first_medium->path;
    record["response2_path"] = media_of(second)->path;
  }
  record["model1"] = "synth-a";
  record["model2"] = "synth-b";
  record["criteria"] = example.criteria;
  record["criteria_preference"] = preference;
  return record;
}

// A gold tie from a criteria draw: both responses correct, neutral criteria.
data::Example tie_of(const detail::CriteriaDraw& draw, int64_t index) {
  data::Example example;
  example.prompt = draw.prompt;
  example.chosen = draw.responses[0];
  example.rejected = draw.responses[1];
  example.criteria = kNeutralCriteria[index % int64_t(std::size(kNeutralCriteria))];
  return example;
}

struct TaskRecords {
  std::vector<data::Example> pairs;
  std::vector<data::Example> ties;
};

TaskRecords text_records(const BenchLayoutOptions& options) {
  data::SynthOptions text;
  text.tasks = {"t2t"};
  text.train_pairs = 0;
  text.seed = options.seed;
  // Style pairs (both answers fine) become the ties; draw enough of both kinds.
  text.eval_pairs = 4 * (options.pairs_per_task + options.ties_per_task) + 8;
  const data::SynthSet set = data::synthesize(text);
  TaskRecords records;
  int64_t tie_index = 0;
  for (const data::Example& example : set.eval) {
    const bool style =
        std::find(example.tags.begin(), example.tags.end(), "style") != example.tags.end();
    if (style && int64_t(records.ties.size()) < options.ties_per_task) {
      data::Example tie = example;
      tie.criteria = kNeutralCriteria[tie_index++ % int64_t(std::size(kNeutralCriteria))];
      records.ties.push_back(std::move(tie));
    } else if (!style && int64_t(records.pairs.size()) < options.pairs_per_task) {
      records.pairs.push_back(example);
    }
  }
  return records;
}

TaskRecords media_records(const std::string& task, uint64_t stream,
                          const BenchLayoutOptions& options, detail::MediaPool& pool) {
  const detail::TaskSetup setup{options.seed, options.image_size, &pool, false};
  const std::unique_ptr<detail::TaskGenerator> generator = make_generator(task, setup);
  detail::SynthRandom random = detail::SynthRandom::stream(options.seed, stream);
  TaskRecords records;
  // t23d keeps only multi-view renders (a third of the draws); others keep everything.
  for (int attempt = 0; attempt < 64 && int64_t(records.pairs.size()) < options.pairs_per_task;
       ++attempt) {
    for (data::Example& example :
         detail::generate_pairs(*generator, task, Split::eval, options.pairs_per_task, random)) {
      if (int64_t(records.pairs.size()) == options.pairs_per_task) break;
      if (fits_layout(task, example) && !same_response(example)) {
        records.pairs.push_back(std::move(example));
      }
    }
  }
  for (int attempt = 0; attempt < 64 * 4 && int64_t(records.ties.size()) < options.ties_per_task;
       ++attempt) {
    data::Example tie =
        tie_of(generator->criteria_pair(Split::eval, random), int64_t(records.ties.size()));
    if (fits_layout(task, tie) && !same_response(tie)) records.ties.push_back(std::move(tie));
  }
  if (int64_t(records.pairs.size()) < options.pairs_per_task ||
      int64_t(records.ties.size()) < options.ties_per_task) {
    throw std::logic_error("bench layout: the " + task + " generator gave too few pairs");
  }
  return records;
}

void write_task_file(const fs::path& path, const std::vector<Json>& records, bool json_array) {
  const fs::path temporary = path.string() + ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw UserError("cannot write '" + temporary.string() + "'; check the directory");
    if (json_array) {
      out << "[\n";
      for (size_t i = 0; i < records.size(); ++i) {
        out << "  " << records[i].dump() << (i + 1 < records.size() ? ",\n" : "\n");
      }
      out << "]\n";
    } else {
      for (const Json& record : records) out << record.dump() << "\n";
    }
    if (!out) throw UserError("writing '" + temporary.string() + "' failed; check the disk");
  }
  fs::rename(temporary, path);
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

}  // namespace

std::string write_bench_layout(const BenchLayoutOptions& options, const std::string& out_dir) {
  std::vector<std::string> tasks;
  for (const std::string& task : omni_tasks()) {
    const bool all = options.tasks.empty() || std::find(options.tasks.begin(), options.tasks.end(),
                                                        "all") != options.tasks.end();
    if (all || std::find(options.tasks.begin(), options.tasks.end(), task) != options.tasks.end())
      tasks.push_back(task);
  }
  for (const std::string& asked : options.tasks) {
    if (asked != "all" &&
        std::find(omni_tasks().begin(), omni_tasks().end(), asked) == omni_tasks().end()) {
      throw UserError("data synth --bench-layout: unknown task '" + asked +
                      "'; use t2t, ti2t, tv2t, ta2t, t2i, t2v, t2a, t23d, ti2i or all");
    }
  }
  if (options.pairs_per_task < 0 || options.ties_per_task < 0) {
    throw UserError("data synth --bench-layout: pair counts must not be negative");
  }
  if (options.image_size < 16 || options.image_size > 256 || options.image_size % 2 != 0) {
    throw UserError("data synth: image size " + std::to_string(options.image_size) +
                    " is not an even number of pixels from 16 to 256; pick one such as 32");
  }
  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error || !fs::is_directory(out_dir)) {
    throw UserError("cannot create output directory '" + out_dir + "'; choose another path");
  }
  detail::MediaPool pool((fs::path(out_dir) / "media_data").string());
  std::vector<std::string> corpus;
  std::set<std::string> seen;
  auto add_text = [&](const std::string& text) {
    if (!text.empty() && seen.insert(text).second) corpus.push_back(text);
  };
  int64_t written = 0;
  for (size_t t = 0; t < tasks.size(); ++t) {
    const std::string& task = tasks[t];
    const auto index = static_cast<uint64_t>(
        std::find(omni_tasks().begin(), omni_tasks().end(), task) - omni_tasks().begin());
    const TaskRecords records = task == "t2t"
                                    ? text_records(options)
                                    : media_records(task, kFirstStream + index, options, pool);
    std::vector<Json> lines;
    int64_t number = 0;
    auto add = [&](const data::Example& example, const std::string& preference) {
      char id[48];
      std::snprintf(id, sizeof(id), "%s-bench-%04lld", task.c_str(),
                    static_cast<long long>(++number));
      lines.push_back(bench_record(task, example, id, preference));
      add_text(example.criteria);
      add_text(data::text_of(example.prompt.back().content));
      add_text(data::text_of(example.chosen));
      add_text(data::text_of(example.rejected));
    };
    // Ties spread among the pairs: one after every few pairs, the rest at the end.
    const int64_t stride =
        records.ties.empty()
            ? 0
            : std::max<int64_t>(1, int64_t(records.pairs.size()) / int64_t(records.ties.size()));
    size_t next_tie = 0;
    for (size_t i = 0; i < records.pairs.size(); ++i) {
      add(records.pairs[i], i % 2 == 0 ? "response1" : "response2");
      if (stride > 0 && (int64_t(i) + 1) % stride == 0 && next_tie < records.ties.size()) {
        add(records.ties[next_tie++], "tie");
      }
    }
    for (; next_tie < records.ties.size(); ++next_tie) add(records.ties[next_tie], "tie");
    const bool json_array = t % 2 == 0;
    const std::string name = json_array ? task + ".json" : upper(task) + ".jsonl";
    write_task_file(fs::path(out_dir) / name, lines, json_array);
    written += int64_t(lines.size());
  }
  {
    std::ofstream out(fs::path(out_dir) / "corpus.txt", std::ios::binary | std::ios::trunc);
    for (const std::string& line : corpus) out << line << "\n";
  }
  return "wrote " + std::to_string(written) + " benchmark pairs (" + std::to_string(tasks.size()) +
         " task files, " + std::to_string(options.ties_per_task) + " ties per task) and " +
         std::to_string(pool.files_written()) + " media files to " + out_dir;
}

}  // namespace omnirm::synth
