// Criteria phrases shared by several media tasks. Each pole keeps its own marker words
// ("brief"/"short"/"concise" against "detail"; "larger"/"bigger" against "smaller"), so a
// preference is decidable from the criteria's words.
#pragma once

#include <array>
#include <string_view>

namespace omnirm::synth::detail {

inline constexpr std::array<std::string_view, 3> kBriefCriteria = {
    "Prefer the brief answer; a few words are enough.",
    "The user wants a short reply, so the shorter correct answer is better.",
    "Prefer concise responses with no extra words."};

inline constexpr std::array<std::string_view, 3> kDetailedCriteria = {
    "Prefer the detailed answer that describes more than the bare minimum.",
    "The user wants a thorough description, so the more detailed correct answer is better.",
    "Prefer responses that give extra detail."};

inline constexpr std::array<std::string_view, 3> kLargerCriteria = {
    "Prefer the image where the object is larger.",
    "A bigger object that fills more of the frame is better.",
    "Prefer the result with the larger object."};

inline constexpr std::array<std::string_view, 3> kSmallerCriteria = {
    "Prefer the image where the object is smaller.",
    "A smaller object with more empty space around it is better.",
    "Prefer the result with the smaller object."};

}  // namespace omnirm::synth::detail
