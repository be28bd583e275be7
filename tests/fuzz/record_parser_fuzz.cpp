// libFuzzer target for the record readers. The first byte picks the reader: the canonical
// parse_pair_record, or convert_record for llamafactory, omni-rewardbench or trl; the rest
// is the record text. A reader may only accept or throw UserError, and every canonical
// record it accepts must survive to_json_line -> parse -> to_json_line unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "omnirm/core/error.h"
#include "omnirm/data/convert.h"
#include "omnirm/data/jsonl_reader.h"

namespace {

using omnirm::data::ConvertContext;
using omnirm::data::Example;
using omnirm::data::SourceFormat;

// The canonical line must read back to an example that writes the same line.
void check_round_trip(const Example& example) {
  const std::string line = omnirm::data::to_json_line(example);
  Example again;
  try {
    again = omnirm::data::parse_pair_record(line, "fuzz:round-trip");
  } catch (const omnirm::UserError&) {
    // Converters may build records the canonical rules reject (convert_file filters those);
    // the canonical parser's own output must always read back.
    if (!example.origin.empty() && example.origin == "fuzz:1") __builtin_trap();
    return;
  }
  if (omnirm::data::to_json_line(again) != line) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0:
        check_round_trip(omnirm::data::parse_pair_record(text, "fuzz:1"));
        break;
      default: {
        ConvertContext context;
        context.origin = "fuzz.json:[0]";
        context.default_id = "fuzz-0";
        context.root = "/data";
        context.media_dir = "media_data";
        const SourceFormat format = data[0] % 4 == 1   ? SourceFormat::llamafactory
                                    : data[0] % 4 == 2 ? SourceFormat::omni_rewardbench
                                                       : SourceFormat::trl;
        if (format == SourceFormat::omni_rewardbench) context.task = data[0] & 8 ? "t2i" : "ti2t";
        check_round_trip(omnirm::data::convert_record(format, text, context));
        break;
      }
    }
  } catch (const omnirm::UserError&) {
    // Bad input, reported as such: fine.
  }
  return 0;
}
