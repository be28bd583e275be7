// The canonical pair record in memory: one preference pair under one criterion.
// See README "Data format" for the JSONL schema this is read from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnirm::data {

// One content part of a turn or response: text, or a reference to a media file.
struct ContentPart {
  std::string type;  // text | image | video | audio | mesh | views
  std::string text;  // for type == text
  std::string path;  // for media types: relative to the dataset root
};

struct Turn {
  std::string role;  // user | assistant
  std::vector<ContentPart> content;
};

enum class Preference { chosen, tie };

struct Example {
  std::string id;
  std::string task = "t2t";  // t2t ti2t tv2t ta2t t2i t2v t2a t23d ti2i
  std::string criteria;      // free-form; becomes the system turn
  std::vector<Turn> prompt;  // user/assistant turns, last one a user turn
  std::vector<ContentPart> chosen;
  std::vector<ContentPart> rejected;
  Preference preference = Preference::chosen;
  double margin = 0.0;
  std::vector<std::string> tags;  // free labels; evaluation reports accuracy per tag
  // Where the record came from, for messages: "file:line".
  std::string origin;
};

// Concatenated text of the parts (media parts contribute nothing here).
std::string text_of(const std::vector<ContentPart>& parts);

}  // namespace omnirm::data
