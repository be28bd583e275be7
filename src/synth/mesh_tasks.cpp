// The 3D task t23d: a prompt asks for a tall or flat primitive; content pairs set the matching
// model against one of another primitive or proportion (both upright), criteria pairs an
// upright against a lying copy of the matching model. Both responses of a pair share one
// form: a PLY mesh, an OBJ mesh or a multi-view render. In train, every model and prompt
// uses train combinations only.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "primitive_meshes.h"
#include "task_families.h"

namespace omnirm::synth::detail {
namespace {

using Combo = std::pair<int, int>;  // (stretch, primitive)

constexpr std::array<std::string_view, 3> kPrompts = {"A 3D model of a {stretch} {primitive}.",
                                                      "Create a {stretch} {primitive} as a 3D "
                                                      "object.",
                                                      "Model a {stretch} {primitive} in 3D."};
constexpr std::array<std::string_view, 3> kContentCriteria = {
    "Prefer the 3D model whose shape and proportions match the request.",
    "The object must be the requested primitive with the requested proportions.",
    "Prefer the model that follows the prompt faithfully."};
constexpr std::array<std::string_view, 3> kUprightCriteria = {
    "Prefer the model standing upright.", "The object should stand upright on its base.",
    "Prefer the upright model."};
constexpr std::array<std::string_view, 3> kLyingCriteria = {
    "Prefer the model lying on its side.", "The object should be lying on its side.",
    "Prefer the model that is lying down."};

class T23dGenerator : public TaskGenerator {
 public:
  explicit T23dGenerator(const TaskSetup& setup)
      : setup_(setup), grid_(primitive_grid(setup.seed, setup.hold_out_combinations)) {}

  data::Example content_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    std::vector<Combo> wrong;
    for (int stretch = 0; stretch < grid_.rows(); ++stretch) {
      for (int primitive = 0; primitive < grid_.cols(); ++primitive) {
        if (Combo{stretch, primitive} == truth) continue;
        if (split == Split::train && grid_.is_eval(stretch, primitive)) continue;
        wrong.emplace_back(stretch, primitive);
      }
    }
    const ModelForm form = random_form(random);
    data::Example example;
    example.prompt = request(truth, random);
    example.chosen = {model(split, truth, 0, form, random)};
    example.rejected = {model(split, pick_one(random, wrong), 0, form, random)};
    example.criteria = std::string(random.pick(kContentCriteria));
    return example;
  }

  CriteriaDraw criteria_pair(Split split, SynthRandom& random) override {
    const Combo truth = pick_one(random, grid_.combos(split));
    const ModelForm form = random_form(random);
    CriteriaDraw draw;
    draw.prompt = request(truth, random);
    draw.responses[0] = {model(split, truth, 0, form, random)};
    draw.responses[1] = {model(split, truth, 1, form, random)};
    draw.criteria[0] = std::string(random.pick(kUprightCriteria));
    draw.criteria[1] = std::string(random.pick(kLyingCriteria));
    draw.attribute = "pose";
    return draw;
  }

 private:
  static ModelForm random_form(SynthRandom& random) {
    return static_cast<ModelForm>(random.below(3));
  }

  static std::vector<data::Turn> request(Combo truth, SynthRandom& random) {
    return {user_turn(
        {text_part(fill(random.pick(kPrompts), {{"stretch", kStretchNames[truth.first]},
                                                {"primitive", kPrimitiveNames[truth.second]}}))})};
  }

  data::ContentPart model(Split split, Combo combo, int pose, ModelForm form, SynthRandom& random) {
    PrimitiveModel primitive{combo.second, combo.first, pose,
                             static_cast<int>(random.below(kModelVariants))};
    // A width fixed per file and split (within 10%), so eval models are new objects even
    // where their combination also occurs in training.
    SynthRandom turn = keyed_random(
        setup_.seed,
        {0x7A3, static_cast<uint64_t>(split), static_cast<uint64_t>(primitive.primitive),
         static_cast<uint64_t>(primitive.stretch), static_cast<uint64_t>(pose),
         static_cast<uint64_t>(primitive.variant)});
    primitive.width_jitter = static_cast<int>(turn.below(21)) - 10;
    const std::string path =
        primitive_model_file(*setup_.pool, primitive, form, split, setup_.image_size);
    return media_part(form == ModelForm::views ? "views" : "mesh", path);
  }

  TaskSetup setup_;
  ComboGrid grid_;
};

}  // namespace

std::unique_ptr<TaskGenerator> make_t23d(const TaskSetup& setup) {
  return std::make_unique<T23dGenerator>(setup);
}

}  // namespace omnirm::synth::detail
