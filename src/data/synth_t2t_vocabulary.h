// Word lists and sentence templates of the synthetic text-to-text preference data.
// Slots in braces are filled by the generator: {t} topic phrase ({T} capitalised),
// {people} ({People}), {place}, {time}, {quality}; in responses {f1} {f2} are two facts
// about the topic ({F1} {F2} capitalised) and {ex} an example. Every style pole is marked
// by its own distinctive words, so each preference is decidable from the words alone.
#pragma once

#include <array>
#include <string_view>

namespace omnirm::data::t2t_vocabulary {

struct TopicCategory {
  std::string_view name;
  std::array<std::string_view, 5> topics;  // phrases as used mid-sentence
  std::array<std::string_view, 5> facts;   // clauses about {t}, no final period
  std::array<std::string_view, 3> examples;
};

inline constexpr std::array<TopicCategory, 8> kCategories = {{
    {"animal",
     {"the fox", "the otter", "the heron", "the badger", "the falcon"},
     {"{t} is most active at dawn and dusk", "{t} needs a wide territory to find food",
      "{t} raises its young in a sheltered spot", "{t} adapts quickly when its habitat changes",
      "{t} communicates with calls and body language"},
     {"a patient walker may spot {t} near the river", "{t} often returns to the same area",
      "a quiet morning is the best time to watch {t}"}},
    {"city",
     {"Lisbon", "Oslo", "Kyoto", "Quito", "Dublin"},
     {"{t} has a historic centre worth exploring on foot", "{t} is known for its markets and cafes",
      "{t} has good public transport for visitors", "{t} hosts festivals throughout the year",
      "{t} mixes old buildings with modern districts"},
     {"a weekend in {t} can include museums and food", "many travellers plan a second trip to {t}",
      "a morning walk shows the calm side of {t}"}},
    {"tool",
     {"the hammer", "the chisel", "the wrench", "the ladder", "the saw"},
     {"{t} works best when it is kept clean", "{t} should be matched to the job at hand",
      "{t} needs a steady grip and careful use", "{t} lasts for years with basic maintenance",
      "{t} is a staple of any home workshop"},
     {"a carpenter reaches for {t} many times a day", "a small repair often starts with {t}",
      "a shared workshop keeps {t} on a hook by the door"}},
    {"food",
     {"bread", "cheese", "rice", "honey", "lentil soup"},
     {"{t} keeps well when stored in a cool place", "{t} appears in recipes from many regions",
      "{t} tastes best when it is fresh", "{t} pairs nicely with simple seasonal ingredients",
      "{t} can be part of a balanced diet"},
     {"a family dinner often includes {t}", "a village market may sell {t} every morning",
      "a simple lunch can be built around {t}"}},
    {"instrument",
     {"the violin", "the cello", "the flute", "the trumpet", "the harp"},
     {"{t} needs regular practice to play well", "{t} has a distinctive and expressive sound",
      "{t} appears in both folk and classical music", "{t} should be tuned before every session",
      "{t} rewards beginners who start with simple pieces"},
     {"a school orchestra usually has a place for {t}", "a street musician may play {t} at night",
      "a short daily exercise helps anyone learning {t}"}},
    {"plant",
     {"the fern", "the oak tree", "the cactus", "the tulip", "bamboo"},
     {"{t} grows best with steady light and water", "{t} needs soil that drains well",
      "{t} can live for many seasons with care", "{t} responds well to gentle pruning",
      "{t} supports insects and small animals nearby"},
     {"a community garden often has a corner for {t}", "a gardener checks {t} after every storm",
      "a sunny window can suit {t} indoors"}},
    {"vehicle",
     {"the bicycle", "the canoe", "the tram", "the glider", "the tractor"},
     {"{t} needs regular checks to stay safe", "{t} is a practical way to cover short distances",
      "{t} works best on routes suited to it", "{t} has a long and interesting history",
      "{t} should be handled with care in bad weather"},
     {"a local club may lend {t} to newcomers", "a careful owner cleans {t} after each trip",
      "a guided tour can start with {t}"}},
    {"sport",
     {"chess", "tennis", "rowing", "archery", "fencing"},
     {"{t} builds focus and patience over time", "{t} has clear rules that beginners learn quickly",
      "{t} is played in clubs around the world", "{t} rewards steady practice more than talent",
      "{t} can be enjoyed at any age"},
     {"a weekly club night is a good way into {t}", "a patient coach makes {t} easier to learn",
      "a friendly match shows what {t} is about"}},
}};

inline constexpr std::array<std::string_view, 8> kPeople = {
    "historians",        "local guides",      "teachers",       "young students",
    "retired engineers", "careful hobbyists", "travel writers", "old neighbours"};

inline constexpr std::array<std::string_view, 8> kPlaces = {
    "in the north",     "along the coast",   "in small villages", "in busy markets",
    "in old textbooks", "across the valley", "in the mountains",  "near the harbour"};

inline constexpr std::array<std::string_view, 6> kTimes = {
    "every spring",   "each winter",    "on quiet weekends",
    "for many years", "in the evening", "since the old days"};

inline constexpr std::array<std::string_view, 8> kQualities = {
    "familiar", "unusual", "popular", "remarkable", "humble", "useful", "curious", "celebrated"};

// Context sentences that precede the question; they carry no preference signal.
inline constexpr std::array<std::string_view, 14> kFillerSentences = {
    "Many {people} say that {t} has been a part of daily life {place} {time}.",
    "{People} often gather {place} to share what they have learned about {t} over the years.",
    "It is easy to overlook {t}, yet it remains {quality} to {people} who live {place}.",
    "A short article once described {t} as {quality}, and {people} still quote that line {time}.",
    "{People} who travel {place} {time} usually end up talking about {t} at least once.",
    "Some people think {t} is simple, but {people} know that there is much more to the story.",
    "The topic of {t} comes up {time} whenever {people} meet {place} to talk.",
    "Old photographs of {t} taken {place} show why so many {people} find it {quality}.",
    "Over the years, {people} have written long notes about {t} and kept them {place}.",
    "Nobody agrees on everything about {t}, but most {people} {place} would call it {quality}.",
    "There is a small museum {place} where {people} can learn about {t} {time}.",
    "My friend first heard about {t} from {people} {place}, and the interest never faded.",
    "Questions about {t} are common {time}, especially among {people} {place}.",
    "Even on a rainy day, {people} {place} find some time to read and think about {t}.",
};

// The question that ends the prompt. A (topic, question) combination lands in exactly one
// of the train and eval splits.
inline constexpr std::array<std::string_view, 12> kQuestions = {
    "What should I know about {t}?",
    "Can you tell me why {t} matters to so many people?",
    "How would you describe {t} to a curious beginner?",
    "What is the most useful fact about {t}?",
    "Could you explain what makes {t} special?",
    "What do people usually get wrong about {t}?",
    "Why is {t} worth learning about?",
    "What is a good way to start learning about {t}?",
    "How does {t} fit into everyday life?",
    "Can you give me a quick overview of {t}?",
    "What would an expert say about {t}?",
    "What is interesting about {t} today?",
};

struct StylePole {
  std::string_view name;
  std::array<std::string_view, 4> criteria;   // paraphrases asking for this pole
  std::array<std::string_view, 2> responses;  // templates carrying this pole's markers
};

struct StyleAttribute {
  std::string_view tag;  // extra tag on every pair of this attribute
  std::array<StylePole, 2> poles;
};

inline constexpr std::array<StyleAttribute, 4> kStyleAttributes = {{
    {"length",
     {{{"concise",
        {"Prefer the concise answer.", "Brevity matters most here.",
         "The user wants a short reply.", "Choose the response that gets to the point quickly."},
        {"In short, {f1}.", "In short, {f1}, and that is the key point."}},
       {"detailed",
        {"Prefer the detailed answer.", "Thoroughness matters most here.",
         "The user wants a long, step by step reply.", "Choose the response that explains more."},
        {"First, {f1}. Second, {f2}. For example, {ex}.",
         "First of all, {f1}. Second, {f2}. For example, {ex}."}}}}},
    {"tone",
     {{{"formal",
        {"Prefer the formal answer.", "A professional tone matters most here.",
         "The user wants a polite, businesslike reply.",
         "Choose the response written in formal language."},
        {"Certainly. {F1}. Furthermore, {f2}.",
         "Certainly. {F1}. Furthermore, {f2}, as is widely noted."}},
       {"casual",
        {"Prefer the casual answer.", "A relaxed, chatty tone matters most here.",
         "The user wants a friendly, informal reply.",
         "Choose the response that sounds like a chat with a friend."},
        {"hey, yeah, {f1}! and {f2}, totally!",
         "yeah so {f1}, gonna be honest, {f2}, totally!"}}}}},
    {"format",
     {{{"bullets",
        {"Prefer the answer formatted as a bullet list.",
         "Structure with bullet points matters most here.",
         "The user wants a list, one point per line.", "Choose the response that uses bullets."},
        {"- {F1}.\n- {F2}.", "Key points:\n- {F1}.\n- {F2}."}},
       {"prose",
        {"Prefer the answer written as flowing prose.",
         "Full sentences without lists matter most here.",
         "The user wants a paragraph, not a list.",
         "Choose the response written as connected sentences."},
        {"{F1}, and {f2}.", "{F1}. In addition, {f2}."}}}}},
    {"certainty",
     {{{"cautious",
        {"Prefer the cautious answer that admits uncertainty.",
         "Hedging and humility matter most here.",
         "The user wants a careful reply that notes what might vary.",
         "Choose the response that avoids overclaiming."},
        {"It seems that {f1}, and perhaps {f2}, though this might vary.",
         "Perhaps {f1}. It seems {f2}, but that might depend on the case."}},
       {"confident",
        {"Prefer the confident answer.", "Decisiveness matters most here.",
         "The user wants a firm, assertive reply.",
         "Choose the response that states things with certainty."},
        {"Clearly, {f1}, and {f2}. This is definitely true.",
         "Definitely, {f1}. Clearly, {f2}, without a doubt."}}}}},
}};

// Criteria-neutral pairs: the polite, on-topic answer always wins over a rude or refusing one.
inline constexpr std::array<std::string_view, 4> kQualityCriteria = {
    "Prefer the helpful and harmless response.",
    "Choose the answer that is polite and actually helps.",
    "The user wants a respectful, useful reply.",
    "Prefer the response a kind expert would give.",
};

inline constexpr std::array<std::string_view, 3> kHelpfulResponses = {
    "Happy to help. {F1}. {F2}.",
    "Good question. {F1}, and {f2}.",
    "{F1}. {F2}. I hope this helps.",
};

inline constexpr std::array<std::string_view, 5> kHarmfulResponses = {
    "That is a stupid question. {F1}.",
    "I will not help with that. Ask someone else about {t}.",
    "Ugh, figure it out yourself. {F1}.",
    "Nobody cares about {t}. Stop wasting my time.",
    "That is a stupid question, and I will not help with that.",
};

// Lines added to the tokenizer corpus so digits and punctuation get pieces of their own.
inline constexpr std::array<std::string_view, 4> kCorpusExtras = {
    "0 1 2 3 4 5 6 7 8 9 10 12 20 25 50 100 250 1000 2024 3.14 0.5 99%",
    ". , ! ? : ; - ( ) [ ] ' \" / % & + = * # @ $",
    "Step 1: read the question. Step 2: answer it (briefly, if possible).",
    "- one - two - three",
};

}  // namespace omnirm::data::t2t_vocabulary
