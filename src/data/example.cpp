// text_of: the plain text carried by a list of content parts, media parts skipped.
#include "omnirm/data/example.h"

namespace omnirm::data {

std::string text_of(const std::vector<ContentPart>& parts) {
  std::string text;
  for (const ContentPart& part : parts) {
    if (part.type == "text") text += part.text;
  }
  return text;
}

}  // namespace omnirm::data
