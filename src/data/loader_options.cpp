// The loader's small pieces around the pipeline: data.mix parsing, options from a config,
// positions as JSON, and packing a micro-batch.
#include <nlohmann/json.hpp>

#include <optional>
#include <sstream>

#include "omnirm/core/error.h"
#include "omnirm/core/parse_scalar.h"
#include "omnirm/data/loader.h"

namespace omnirm::data {
namespace {

std::string trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\n");
  if (first == std::string_view::npos) return "";
  const size_t last = text.find_last_not_of(" \t\n");
  return std::string(text.substr(first, last - first + 1));
}

DatasetSource parse_mix_entry(const std::string& entry, size_t number) {
  const std::string where = "data.mix: entry " + std::to_string(number) + " '" + entry + "'";
  std::istringstream words(entry);
  DatasetSource source;
  words >> source.path;
  std::string option;
  while (words >> option) {
    const size_t equals = option.find('=');
    const std::string name = option.substr(0, equals);
    const std::string value = equals == std::string::npos ? "" : option.substr(equals + 1);
    if (name == "weight") {
      const std::optional<double> weight = parse_number(value);
      if (!weight || *weight < 0.0) {
        throw UserError(where + ": weight '" + value + "' is not a number of 0 or more");
      }
      source.weight = *weight;
    } else if (name == "max_pairs") {
      const std::optional<int64_t> max_pairs = parse_integer(value);
      if (!max_pairs || *max_pairs < 0) {
        throw UserError(where + ": max_pairs '" + value + "' is not a whole number of 0 or more");
      }
      source.max_pairs = *max_pairs;
    } else {
      throw UserError(where + ": unknown option '" + option +
                      "'; write PATH [weight=W] [max_pairs=N]");
    }
  }
  return source;
}

int64_t json_integer(const nlohmann::json& object, const char* key, const std::string& origin) {
  const auto found = object.find(key);
  if (found == object.end() || !found->is_number_integer()) {
    throw UserError(origin + ": loader position: '" + key +
                    "' is missing or not an integer; the checkpoint is damaged");
  }
  return found->get<int64_t>();
}

}  // namespace

std::vector<DatasetSource> parse_mix(const std::string& spec) {
  std::vector<DatasetSource> sources;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    const std::string entry = trim(std::string_view(spec).substr(start, comma - start));
    if (entry.empty()) {
      throw UserError("data.mix: entry " + std::to_string(sources.size() + 1) +
                      " is empty; write 'PATH [weight=W] [max_pairs=N], ...'");
    }
    sources.push_back(parse_mix_entry(entry, sources.size() + 1));
    start = comma + 1;
  }
  return sources;
}

LoaderOptions loader_options_from_config(const Config& config, int64_t rank, int64_t world_size) {
  LoaderOptions options;
  if (!config.data.train.empty()) options.datasets.push_back(DatasetSource{config.data.train});
  if (!config.data.mix.empty()) {
    for (DatasetSource& source : parse_mix(config.data.mix)) {
      options.datasets.push_back(std::move(source));
    }
  }
  if (options.datasets.empty()) throw UserError("no training data: set data.train or data.mix");
  options.root = config.data.root;
  options.seed = static_cast<uint64_t>(config.train.seed);
  options.shuffle = config.data.shuffle;
  options.epochs = config.train.max_steps > 0 ? 0 : config.train.epochs;
  options.global_batch_pairs = config.train.global_batch_pairs;
  options.rank = rank;
  options.world_size = world_size;
  options.micro_batch_pairs = config.train.micro_batch_pairs;
  options.micro_batch_tokens = config.data.micro_batch_tokens;
  options.prefix_sharing = config.model.prefix_sharing;
  options.max_length = config.data.max_length;
  options.truncation = text::parse_truncation_policy(config.data.truncation);
  options.on_bad_record = parse_on_bad_record(config.data.on_bad_record);
  options.keep_ties = false;
  options.num_workers = config.data.num_workers;
  options.prefetch = config.data.prefetch;
  options.token_cache = config.data.token_cache;
  return options;
}

int64_t EncodedPair::packed_tokens(bool prefix_sharing) const {
  const auto prompt = static_cast<int64_t>(tokens.prompt.size());
  const auto responses = static_cast<int64_t>(tokens.chosen.size() + tokens.rejected.size());
  return (prefix_sharing ? prompt : 2 * prompt) + responses;
}

int64_t LoaderBatch::pairs() const {
  int64_t count = 0;
  for (const MicroBatch& micro_batch : micro_batches) {
    count += static_cast<int64_t>(micro_batch.pairs.size());
  }
  return count;
}

PairBatch pack_micro_batch(const MicroBatch& micro_batch, bool prefix_sharing,
                           double margin_scale) {
  std::vector<const text::PairTokens*> tokens;
  std::vector<float> margins;
  tokens.reserve(micro_batch.pairs.size());
  margins.reserve(micro_batch.pairs.size());
  for (const EncodedPair& pair : micro_batch.pairs) {
    tokens.push_back(&pair.tokens);
    margins.push_back(static_cast<float>(pair.margin * margin_scale));
  }
  return pack_pairs(tokens, margins, prefix_sharing);
}

std::string LoaderPosition::to_json() const {
  nlohmann::ordered_json json;
  json["seed"] = seed;
  json["epoch"] = epoch;
  json["offset"] = offset;
  json["datasets"] = nlohmann::ordered_json::array();
  for (const DatasetPosition& dataset : datasets) {
    json["datasets"].push_back({{"path", dataset.path},
                                {"records", dataset.records},
                                {"file_bytes", dataset.file_bytes},
                                {"consumed", dataset.consumed}});
  }
  return json.dump();
}

LoaderPosition LoaderPosition::from_json(const std::string& text, const std::string& origin) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    throw UserError(origin + ": loader position is not valid JSON (" + error.what() +
                    "); the checkpoint is damaged");
  }
  if (!json.is_object() || !json.contains("seed") || !json["seed"].is_number_unsigned() ||
      !json.contains("datasets") || !json["datasets"].is_array()) {
    throw UserError(origin +
                    ": loader position needs seed and datasets; the checkpoint is damaged");
  }
  LoaderPosition position;
  position.seed = json["seed"].get<uint64_t>();
  position.epoch = json_integer(json, "epoch", origin);
  position.offset = json_integer(json, "offset", origin);
  for (const nlohmann::json& item : json["datasets"]) {
    if (!item.is_object() || !item.contains("path") || !item["path"].is_string()) {
      throw UserError(origin +
                      ": loader position: a dataset lacks its path; the checkpoint is "
                      "damaged");
    }
    DatasetPosition dataset;
    dataset.path = item["path"].get<std::string>();
    dataset.records = json_integer(item, "records", origin);
    dataset.file_bytes = json_integer(item, "file_bytes", origin);
    dataset.consumed = json_integer(item, "consumed", origin);
    position.datasets.push_back(std::move(dataset));
  }
  return position;
}

}  // namespace omnirm::data
