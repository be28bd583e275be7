// The audio tasks:
//  - ta2t: a beep clip and a question about its pitch, its beep count or both; content pairs
//    answer right against wrong in the asked attribute, criteria pairs set a brief against a
//    detailed answer;
//  - t2a: a prompt asks for a pitch and a beep count; content pairs set the matching clip
//    against a mismatching one, criteria pairs a quiet against a loud matching clip.
// In train, every clip and every description uses train combinations only.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "synth_text.h"
#include "task_families.h"
#include "tone_audio.h"

namespace omnirm::synth::detail {
namespace {

using Combo = std::pair<int, int>;  // (pitch, beeps - 1)

enum class Asked { pitch = 0, count = 1, both = 2 };

constexpr std::array<std::string_view, 3> kBeepPhrases = {"one beep", "two beeps", "three beeps"};
constexpr std::array<std::string_view, 3> kTimesPhrases = {"once", "twice", "three times"};
constexpr std::array<std::string_view, 2> kLoudnessAdverbs = {"quietly", "loudly"};

constexpr std::array<std::array<std::string_view, 2>, 3> kQuestions = {
    {{"Is this tone high or low?", "How high is the pitch of this sound?"},
     {"How many beeps are in this clip?", "Count the beeps you hear."},
     {"Describe the sound.", "What do you hear in this clip?"}}};
constexpr std::array<std::array<std::string_view, 2>, 3> kShortAnswers = {
    {{"{Pitch}.", "It is a {pitch} tone."},
     {"{Beeps}.", "I count {beeps}."},
     {"{Beeps} of a {pitch} tone.", "A {pitch} tone, {beeps}."}}};
constexpr std::array<std::string_view, 3> kDetailedAnswers = {
    "The clip contains {beeps} of a {pitch} tone, each short and steady, with silence around "
    "them.",
    "I hear {beeps} at a {pitch} pitch, evenly spaced, and nothing else in the recording.",
    "This is a {pitch} sound made of {beeps}, played {loudly}, with no other noise."};
constexpr std::array<std::string_view, 3> kTa2tContentCriteria = {
    "Prefer the answer that describes the sound correctly.",
    "Judge accuracy: the response must match what can be heard in the audio.",
    "Prefer the correct answer about the clip."};

constexpr std::array<std::string_view, 3> kT2aPrompts = {"A {pitch} tone that beeps {times}.",
                                                         "Generate {beeps} of a {pitch} tone.",
                                                         "Play {beeps} at a {pitch} pitch."};
constexpr std::array<std::string_view, 3> kT2aContentCriteria = {
    "Prefer the audio with the requested pitch and number of beeps.",
    "The sound must match the prompt in pitch and beep count.",
    "Prefer the audio that follows the prompt faithfully."};
constexpr std::array<std::string_view, 3> kLouderCriteria = {"Prefer the louder sound.",
                                                             "A strong, loud sound is better.",
                                                             "Prefer the audio that is louder."};
constexpr std::array<std::string_view, 3> kQuieterCriteria = {"Prefer the quieter sound.",
                                                              "A soft, quiet sound is better.",
                                                              "Prefer the audio that is quieter."};

std::string describe(std::string_view pattern, Combo combo, int loudness) {
  const std::string beeps(kBeepPhrases[combo.second]);
  const std::string pitch(kPitchNames[combo.first]);
  return fill(pattern, {{"pitch", pitch},
                        {"Pitch", capitalize(pitch)},
                        {"beeps", beeps},
                        {"Beeps", capitalize(beeps)},
                        {"times", kTimesPhrases[combo.second]},
                        {"loudly", kLoudnessAdverbs[loudness]}});
}

class AudioTaskBase : public TaskGenerator {
 public:
  explicit AudioTaskBase(const TaskSetup& setup)
      : setup_(setup), grid_(tone_grid(setup.seed, setup.hold_out_combinations)) {}

 protected:
  std::string clip(Split split, Combo combo, int loudness, SynthRandom& random) {
    const ToneClip tone{combo.first, combo.second, loudness,
                        static_cast<int>(random.below(kToneVariants))};
    return tone_clip_file(*setup_.pool, tone, split, setup_.seed);
  }
  // Combinations `split` may mention that differ from `truth` in what `asked` is about;
  // those equal in the other attribute come first when there are any.
  std::vector<Combo> wrong_combos(Split split, Combo truth, Asked asked) const {
    std::vector<Combo> close, far;
    for (int pitch = 0; pitch < grid_.rows(); ++pitch) {
      for (int beeps = 0; beeps < grid_.cols(); ++beeps) {
        if (split == Split::train && grid_.is_eval(pitch, beeps)) continue;
        const bool pitch_differs = pitch != truth.first;
        const bool count_differs = beeps != truth.second;
        if (asked == Asked::pitch && pitch_differs) {
          (count_differs ? far : close).emplace_back(pitch, beeps);
        } else if (asked == Asked::count && count_differs) {
          (pitch_differs ? far : close).emplace_back(pitch, beeps);
        } else if (asked == Asked::both && (pitch_differs || count_differs)) {
          close.emplace_back(pitch, beeps);
        }
      }
    }
    return close.empty() ? far : close;
  }
  static int random_loudness(SynthRandom& random) { return static_cast<int>(random.below(2)); }

  TaskSetup setup_;
  ComboGrid grid_;
};

class Ta2tGenerator : public AudioTaskBase {
 public:
  using AudioTaskBase::AudioTaskBase;

  data::Example content_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const int loudness = random_loudness(random);
    const auto asked = static_cast<Asked>(random.below(3));
    data::Example example;
    example.prompt = question(split, truth, loudness, asked, random);
    const Combo wrong = pick_one(random, wrong_combos(split, truth, asked));
    const std::string_view pattern = random.chance(1, 2)
                                         ? random.pick(kShortAnswers[static_cast<int>(asked)])
                                         : random.pick(kDetailedAnswers);
    example.chosen = {text_part(describe(pattern, truth, loudness))};
    example.rejected = {text_part(describe(pattern, wrong, loudness))};
    example.criteria = std::string(random.pick(kTa2tContentCriteria));
    return example;
  }

  CriteriaDraw criteria_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const int loudness = random_loudness(random);
    const auto asked = static_cast<Asked>(random.below(3));
    CriteriaDraw draw;
    draw.prompt = question(split, truth, loudness, asked, random);
    draw.responses[0] = {
        text_part(describe(random.pick(kShortAnswers[static_cast<int>(asked)]), truth, loudness))};
    draw.responses[1] = {text_part(describe(random.pick(kDetailedAnswers), truth, loudness))};
    draw.criteria[0] = std::string(random.pick(kBriefCriteria));
    draw.criteria[1] = std::string(random.pick(kDetailedCriteria));
    draw.attribute = "brevity";
    return draw;
  }

 private:
  std::vector<data::Turn> question(Split split, Combo truth, int loudness, Asked asked,
                                   SynthRandom& random) {
    const std::string path = clip(split, truth, loudness, random);
    const std::string text(random.pick(kQuestions[static_cast<int>(asked)]));
    return {user_turn({media_part("audio", path), text_part(text)})};
  }
};

class T2aGenerator : public AudioTaskBase {
 public:
  using AudioTaskBase::AudioTaskBase;

  data::Example content_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const Combo wrong = pick_one(random, wrong_combos(split, truth, Asked::both));
    data::Example example;
    example.prompt = request(truth, random);
    example.chosen = {media_part("audio", clip(split, truth, random_loudness(random), random))};
    example.rejected = {media_part("audio", clip(split, wrong, random_loudness(random), random))};
    example.criteria = std::string(random.pick(kT2aContentCriteria));
    return example;
  }

  CriteriaDraw criteria_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    CriteriaDraw draw;
    draw.prompt = request(truth, random);
    draw.responses[0] = {media_part("audio", clip(split, truth, 0, random))};
    draw.responses[1] = {media_part("audio", clip(split, truth, 1, random))};
    draw.criteria[0] = std::string(random.pick(kQuieterCriteria));
    draw.criteria[1] = std::string(random.pick(kLouderCriteria));
    draw.attribute = "loudness";
    return draw;
  }

 private:
  static std::vector<data::Turn> request(Combo truth, SynthRandom& random) {
    return {user_turn({text_part(describe(random.pick(kT2aPrompts), truth, 0))})};
  }
};

}  // namespace

std::unique_ptr<TaskGenerator> make_ta2t(const TaskSetup& setup) {
  return std::make_unique<Ta2tGenerator>(setup);
}
std::unique_ptr<TaskGenerator> make_t2a(const TaskSetup& setup) {
  return std::make_unique<T2aGenerator>(setup);
}

}  // namespace omnirm::synth::detail
