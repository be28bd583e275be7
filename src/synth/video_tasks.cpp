// The video tasks:
//  - tv2t: a clip of a moving square and a question about its motion; content pairs name the
//    right direction against a wrong one, criteria pairs a brief against a detailed answer;
//  - t2v: a prompt asks for a colour and direction; content pairs set the matching clip
//    against one of another colour or direction, criteria pairs a slow against a fast clip.
// In train, every clip and every description uses train combinations only.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "motion_videos.h"
#include "synth_palette.h"
#include "synth_text.h"
#include "task_families.h"

namespace omnirm::synth::detail {
namespace {

using Combo = std::pair<int, int>;  // (direction, colour)

constexpr std::array<std::string_view, 4> kDirectionPhrases = {"to the left", "to the right",
                                                               "upwards", "downwards"};

constexpr std::array<std::string_view, 3> kQuestions = {"Which way does the square move?",
                                                        "Describe the motion in this clip.",
                                                        "In which direction is the square going?"};
constexpr std::array<std::string_view, 3> kShortAnswers = {"{Direction}.", "It moves {direction}.",
                                                           "The square goes {direction}."};
constexpr std::array<std::string_view, 3> kDetailedAnswers = {
    "The {colour} square slides steadily {direction} across a plain light grey background and "
    "keeps its size the whole time.",
    "In this clip a single {colour} square travels {direction}, from one side of the frame "
    "toward the other, while nothing else moves.",
    "The {colour} square moves {direction} at a {speed} pace for about two seconds on a light "
    "grey background."};
constexpr std::array<std::string_view, 3> kTv2tContentCriteria = {
    "Prefer the answer that gets the direction of motion right.",
    "Judge accuracy: the response must match the motion in the video.",
    "Prefer the correct description of the clip."};

constexpr std::array<std::string_view, 3> kT2vPrompts = {
    "A {colour} square moving {direction}.",
    "Make a short clip of a {colour} square sliding {direction}.",
    "Animate a {colour} square that travels {direction}."};
constexpr std::array<std::string_view, 3> kT2vContentCriteria = {
    "Prefer the video that shows the requested colour and direction of motion.",
    "The clip must match the prompt in colour and direction.",
    "Prefer the video that follows the prompt faithfully."};
constexpr std::array<std::string_view, 3> kFasterCriteria = {
    "Prefer the video with the faster motion.",
    "A square that moves quickly and covers more ground is better.",
    "Prefer the clip where the square moves faster."};
constexpr std::array<std::string_view, 3> kSlowerCriteria = {
    "Prefer the video with the slower motion.", "A square that moves slowly and gently is better.",
    "Prefer the clip where the square moves slower."};

std::string describe(std::string_view pattern, Combo combo, int speed) {
  const std::string direction(kDirectionPhrases[combo.first]);
  return fill(pattern, {{"direction", direction},
                        {"Direction", capitalize(direction)},
                        {"colour", kColours[combo.second].name},
                        {"speed", kSpeedNames[speed]}});
}

class VideoTaskBase : public TaskGenerator {
 public:
  explicit VideoTaskBase(const TaskSetup& setup)
      : setup_(setup), grid_(motion_grid(setup.seed, setup.hold_out_combinations)) {}

 protected:
  std::string clip(Split split, Combo combo, int speed, SynthRandom& random) {
    const MotionClip motion{combo.second, combo.first, speed,
                            static_cast<int>(random.below(kMotionVariants))};
    return motion_clip_file(*setup_.pool, motion, split, setup_.seed, setup_.image_size);
  }
  // Every combination other than `truth` that `split` may mention; with `same_colour`, only
  // those of the truth's colour.
  std::vector<Combo> wrong_combos(Split split, Combo truth, bool same_colour) const {
    std::vector<Combo> out;
    for (int direction = 0; direction < grid_.rows(); ++direction) {
      for (int colour = 0; colour < grid_.cols(); ++colour) {
        if (Combo{direction, colour} == truth) continue;
        if (same_colour && colour != truth.second) continue;
        if (split == Split::train && grid_.is_eval(direction, colour)) continue;
        out.emplace_back(direction, colour);
      }
    }
    return out;
  }
  static int random_speed(SynthRandom& random) { return static_cast<int>(random.below(2)); }

  TaskSetup setup_;
  ComboGrid grid_;
};

class Tv2tGenerator : public VideoTaskBase {
 public:
  using VideoTaskBase::VideoTaskBase;

  data::Example content_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const int speed = random_speed(random);
    data::Example example;
    example.prompt = question(split, truth, speed, random);
    const Combo wrong = pick_one(random, wrong_combos(split, truth, /*same_colour=*/true));
    const std::string_view pattern =
        random.chance(1, 2) ? random.pick(kShortAnswers) : random.pick(kDetailedAnswers);
    example.chosen = {text_part(describe(pattern, truth, speed))};
    example.rejected = {text_part(describe(pattern, wrong, speed))};
    example.criteria = std::string(random.pick(kTv2tContentCriteria));
    return example;
  }

  CriteriaDraw criteria_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const int speed = random_speed(random);
    CriteriaDraw draw;
    draw.prompt = question(split, truth, speed, random);
    draw.responses[0] = {text_part(describe(random.pick(kShortAnswers), truth, speed))};
    draw.responses[1] = {text_part(describe(random.pick(kDetailedAnswers), truth, speed))};
    draw.criteria[0] = std::string(random.pick(kBriefCriteria));
    draw.criteria[1] = std::string(random.pick(kDetailedCriteria));
    draw.attribute = "brevity";
    return draw;
  }

 private:
  std::vector<data::Turn> question(Split split, Combo truth, int speed, SynthRandom& random) {
    const std::string path = clip(split, truth, speed, random);
    return {
        user_turn({media_part("video", path), text_part(std::string(random.pick(kQuestions)))})};
  }
};

class T2vGenerator : public VideoTaskBase {
 public:
  using VideoTaskBase::VideoTaskBase;

  data::Example content_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const Combo wrong = pick_one(random, wrong_combos(split, truth, /*same_colour=*/false));
    data::Example example;
    example.prompt = request(truth, random);
    example.chosen = {media_part("video", clip(split, truth, random_speed(random), random))};
    example.rejected = {media_part("video", clip(split, wrong, random_speed(random), random))};
    example.criteria = std::string(random.pick(kT2vContentCriteria));
    return example;
  }

  CriteriaDraw criteria_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    CriteriaDraw draw;
    draw.prompt = request(truth, random);
    draw.responses[0] = {media_part("video", clip(split, truth, 0, random))};
    draw.responses[1] = {media_part("video", clip(split, truth, 1, random))};
    draw.criteria[0] = std::string(random.pick(kSlowerCriteria));
    draw.criteria[1] = std::string(random.pick(kFasterCriteria));
    draw.attribute = "speed";
    return draw;
  }

 private:
  static std::vector<data::Turn> request(Combo truth, SynthRandom& random) {
    return {user_turn({text_part(describe(random.pick(kT2vPrompts), truth, 0))})};
  }
};

}  // namespace

std::unique_ptr<TaskGenerator> make_tv2t(const TaskSetup& setup) {
  return std::make_unique<Tv2tGenerator>(setup);
}
std::unique_ptr<TaskGenerator> make_t2v(const TaskSetup& setup) {
  return std::make_unique<T2vGenerator>(setup);
}

}  // namespace omnirm::synth::detail
