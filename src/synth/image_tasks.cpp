// The image tasks:
//  - ti2t: "what is shown?" about a shape picture; content pairs name the right colour and
//    shape against a wrong one, criteria pairs set a brief against a detailed correct answer;
//  - t2i: a prompt asks for a colour and shape; content pairs set the matching picture against
//    a mismatching one, criteria pairs a small against a large matching picture;
//  - ti2i: a picture and an edit instruction (new colour or new shape); content pairs set the
//    edited picture against the unchanged source or a wrong edit, criteria pairs two correct
//    edits of different size.
// In train, every picture and every description uses train combinations only.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "shape_images.h"
#include "synth_palette.h"
#include "synth_text.h"
#include "task_families.h"

namespace omnirm::synth::detail {
namespace {

using Combo = std::pair<int, int>;  // (shape, colour)

constexpr std::array<std::string_view, 3> kQuestions = {"What is shown in the picture?",
                                                        "Describe the object in this image.",
                                                        "Which shape and colour do you see?"};
constexpr std::array<std::string_view, 3> kShortAnswers = {
    "A {colour} {shape}.", "It is a {colour} {shape}.", "One {colour} {shape}."};
constexpr std::array<std::string_view, 3> kDetailedAnswers = {
    "The image shows a {size} {colour} {shape} drawn on a plain light grey background, with "
    "nothing else in the picture.",
    "I can see one {size} {colour} {shape}. It is the only object, and the background is an "
    "even light grey.",
    "There is a single {colour} {shape} in the picture; it is {size} and sits on a flat, light "
    "grey background."};
constexpr std::array<std::string_view, 3> kTi2tContentCriteria = {
    "Prefer the answer that names the colour and shape in the image correctly.",
    "Judge accuracy: the response must match what the picture shows.",
    "Prefer the correct description of the image."};

constexpr std::array<std::string_view, 3> kT2iPrompts = {
    "Draw a {colour} {shape}.", "An image of a {colour} {shape} on a plain background.",
    "Generate a picture of a single {colour} {shape}."};
constexpr std::array<std::string_view, 3> kT2iContentCriteria = {
    "Prefer the image that shows the requested colour and shape.",
    "The picture must match the prompt exactly in colour and shape.",
    "Prefer the image that follows the prompt faithfully."};

constexpr std::array<std::string_view, 3> kColourEdits = {
    "Make it {colour}.", "Change the colour of the {shape} to {colour}.",
    "Recolour the object {colour} and keep everything else."};
constexpr std::array<std::string_view, 3> kShapeEdits = {
    "Turn it into a {shape}.", "Replace the {colour} shape with a {shape} of the same colour.",
    "Change the shape to a {shape} and keep the colour."};
constexpr std::array<std::string_view, 3> kTi2iContentCriteria = {
    "Prefer the edit that follows the instruction and keeps the rest unchanged.",
    "The better result applies exactly the requested change.",
    "Prefer the image that carries out the edit correctly."};

// Every combination other than `truth` that `split` may mention.
std::vector<Combo> wrong_combos(const ComboGrid& grid, Split split, Combo truth) {
  std::vector<Combo> out;
  for (int shape = 0; shape < grid.rows(); ++shape) {
    for (int colour = 0; colour < grid.cols(); ++colour) {
      if (Combo{shape, colour} == truth) continue;
      if (split == Split::train && grid.is_eval(shape, colour)) continue;
      out.emplace_back(shape, colour);
    }
  }
  return out;
}

bool allowed(const ComboGrid& grid, Split split, int shape, int colour) {
  return split == Split::eval || !grid.is_eval(shape, colour);
}

std::string describe(std::string_view pattern, Combo combo, int size) {
  return fill(pattern, {{"colour", kColours[combo.second].name},
                        {"shape", kShapeNames[combo.first]},
                        {"size", kSizeNames[size]}});
}

// What the image generators share: the grid, the pool and drawing of pictures.
class ImageTaskBase : public TaskGenerator {
 public:
  explicit ImageTaskBase(const TaskSetup& setup)
      : setup_(setup), grid_(shape_grid(setup.seed, setup.hold_out_combinations)) {}

 protected:
  std::string picture(Split split, Combo combo, int size, int variant) {
    return shape_picture_file(*setup_.pool, ShapePicture{combo.second, combo.first, size, variant},
                              split, setup_.seed, setup_.image_size);
  }
  static int random_size(SynthRandom& random) { return static_cast<int>(random.below(2)); }
  static int random_variant(SynthRandom& random) {
    return static_cast<int>(random.below(kPositionVariants));
  }

  TaskSetup setup_;
  ComboGrid grid_;
};

class Ti2tGenerator : public ImageTaskBase {
 public:
  using ImageTaskBase::ImageTaskBase;

  data::Example content_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const int size = random_size(random);
    data::Example example;
    example.prompt = question(split, truth, size, random);
    const Combo wrong = pick_one(random, wrong_combos(grid_, split, truth));
    const std::string_view pattern =
        random.chance(1, 2) ? random.pick(kShortAnswers) : random.pick(kDetailedAnswers);
    example.chosen = {text_part(describe(pattern, truth, size))};
    example.rejected = {text_part(describe(pattern, wrong, size))};
    example.criteria = std::string(random.pick(kTi2tContentCriteria));
    return example;
  }

  CriteriaDraw criteria_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const int size = random_size(random);
    CriteriaDraw draw;
    draw.prompt = question(split, truth, size, random);
    draw.responses[0] = {text_part(describe(random.pick(kShortAnswers), truth, size))};
    draw.responses[1] = {text_part(describe(random.pick(kDetailedAnswers), truth, size))};
    draw.criteria[0] = std::string(random.pick(kBriefCriteria));
    draw.criteria[1] = std::string(random.pick(kDetailedCriteria));
    draw.attribute = "brevity";
    return draw;
  }

 private:
  std::vector<data::Turn> question(Split split, Combo truth, int size, SynthRandom& random) {
    const std::string path = picture(split, truth, size, random_variant(random));
    return {
        user_turn({media_part("image", path), text_part(std::string(random.pick(kQuestions)))})};
  }
};

class T2iGenerator : public ImageTaskBase {
 public:
  using ImageTaskBase::ImageTaskBase;

  data::Example content_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const Combo wrong = pick_one(random, wrong_combos(grid_, split, truth));
    data::Example example;
    example.prompt = request(truth, random);
    example.chosen = {
        media_part("image", picture(split, truth, random_size(random), random_variant(random)))};
    example.rejected = {
        media_part("image", picture(split, wrong, random_size(random), random_variant(random)))};
    example.criteria = std::string(random.pick(kT2iContentCriteria));
    return example;
  }

  CriteriaDraw criteria_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    CriteriaDraw draw;
    draw.prompt = request(truth, random);
    draw.responses[0] = {media_part("image", picture(split, truth, 0, random_variant(random)))};
    draw.responses[1] = {media_part("image", picture(split, truth, 1, random_variant(random)))};
    draw.criteria[0] = std::string(random.pick(kSmallerCriteria));
    draw.criteria[1] = std::string(random.pick(kLargerCriteria));
    draw.attribute = "size";
    return draw;
  }

 private:
  static std::vector<data::Turn> request(Combo truth, SynthRandom& random) {
    return {user_turn({text_part(describe(random.pick(kT2iPrompts), truth, 0))})};
  }
};

// One edit: the source picture's combination, the asked result, and a wrong result (equal to
// the source when the edit should be left undone).
struct Edit {
  Combo source;
  Combo result;
  Combo wrong;
  bool colour_edit = true;
  std::string instruction;
};

class Ti2iGenerator : public ImageTaskBase {
 public:
  using ImageTaskBase::ImageTaskBase;

  data::Example content_pair(Split split, SynthRandom& random) override {
    const Edit edit = draw_edit(split, random);
    const int size = random_size(random);
    const int variant = random_variant(random);
    data::Example example;
    example.prompt = prompt(split, edit, size, variant);
    example.chosen = {media_part("image", picture(split, edit.result, size, variant))};
    example.rejected = {media_part("image", picture(split, edit.wrong, size, variant))};
    example.criteria = std::string(random.pick(kTi2iContentCriteria));
    return example;
  }

  CriteriaDraw criteria_pair(Split split, SynthRandom& random) override {
    const Edit edit = draw_edit(split, random);
    const int size = random_size(random);
    const int variant = random_variant(random);
    CriteriaDraw draw;
    draw.prompt = prompt(split, edit, size, variant);
    draw.responses[0] = {media_part("image", picture(split, edit.result, 0, variant))};
    draw.responses[1] = {media_part("image", picture(split, edit.result, 1, variant))};
    draw.criteria[0] = std::string(random.pick(kSmallerCriteria));
    draw.criteria[1] = std::string(random.pick(kLargerCriteria));
    draw.attribute = "size";
    return draw;
  }

 private:
  std::vector<data::Turn> prompt(Split split, const Edit& edit, int size, int variant) {
    return {user_turn({media_part("image", picture(split, edit.source, size, variant)),
                       text_part(edit.instruction)})};
  }

  Edit draw_edit(Split split, SynthRandom& random) {
    Edit edit;
    edit.result = pick_one(random, grid_.combos(split));
    edit.colour_edit = random.chance(1, 2);
    // The values the edited attribute may take in source and wrong result.
    std::vector<Combo> others;
    const int count = edit.colour_edit ? grid_.cols() : grid_.rows();
    for (int value = 0; value < count; ++value) {
      const Combo combo =
          edit.colour_edit ? Combo{edit.result.first, value} : Combo{value, edit.result.second};
      if (combo != edit.result && allowed(grid_, split, combo.first, combo.second)) {
        others.push_back(combo);
      }
    }
    const size_t source_index = random.below(others.size());
    edit.source = others[source_index];
    others.erase(others.begin() + static_cast<std::ptrdiff_t>(source_index));
    const bool undone = others.empty() || random.chance(1, 2);
    edit.wrong = undone ? edit.source : pick_one(random, others);
    const std::string_view pattern =
        edit.colour_edit ? random.pick(kColourEdits) : random.pick(kShapeEdits);
    // Colour edits name the new colour and the kept shape; shape edits the kept colour and
    // the new shape; both are the result's.
    edit.instruction = fill(pattern, {{"colour", kColours[edit.result.second].name},
                                      {"shape", kShapeNames[edit.result.first]}});
    return edit;
  }
};

}  // namespace

std::unique_ptr<TaskGenerator> make_ti2t(const TaskSetup& setup) {
  return std::make_unique<Ti2tGenerator>(setup);
}
std::unique_ptr<TaskGenerator> make_t2i(const TaskSetup& setup) {
  return std::make_unique<T2iGenerator>(setup);
}
std::unique_ptr<TaskGenerator> make_ti2i(const TaskSetup& setup) {
  return std::make_unique<Ti2iGenerator>(setup);
}

}  // namespace omnirm::synth::detail
