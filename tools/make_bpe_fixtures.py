#!/usr/bin/env python3
"""Builds the parity fixtures of omnirm's byte-level BPE tokenizer (tests/fixtures/bpe/).

Trains a small byte-level BPE tokenizer with HF `tokenizers` in the Qwen2 configuration
(NFC normalizer; Split by Qwen2's pre-tokenizer regex, isolated; ByteLevel without prefix
space or regex; ByteLevel decoder), with the special tokens Qwen2 and omnirm's chat
template use, on a corpus this script writes, then records HF's ids for a test corpus of
Unicode (accents, CJK, emoji, combining marks that NFC composes), digits and long digit
runs, whitespace runs, tabs, newlines, trailing spaces, contractions and special tokens
inside text. Writes:

  tokenizer.json   the trained tokenizer (compact JSON, merges as [a, b] pairs)
  cases.jsonl      one {"text", "nfc", "ids"} per line: the text, Python's NFC of it, and
                   HF's Tokenizer.encode(text, add_special_tokens=False).ids
  meta.json        the tokenizers version, Python's Unicode version, vocab size, case count

Needs only `tokenizers` (tools/setup.sh installs it into the omnirm venv); no network.
Deterministic: the same tokenizers version writes the same files.

  ~/.local/share/omnirm/venv/bin/python tools/make_bpe_fixtures.py [--out tests/fixtures/bpe]
"""

import argparse
import json
import random
import sys
import unicodedata
from pathlib import Path

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, processors, trainers

# Qwen2's pre-tokenizer regex (transformers' Qwen2Converter).
QWEN2_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
    r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

# Qwen2's own specials first, then omnirm's media placeholders (text/tokenizer.h).
SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>",
    "<image>", "<video>", "<audio>", "<mesh>", "<views>",
]
# Added tokens that are not special: one matched in the raw text (like Qwen2.5's
# <tool_call>) and one matched in the NFC-normalised text, written decomposed so that only
# the normalised text contains it.
EXTRA_ADDED = [
    AddedToken("<tool_call>", special=False, normalized=False),
    AddedToken("e\u0301clair", special=False, normalized=True),
]

WORDS = {
    "en": "the reward model prefers an answer that is helpful honest and safe while the other "
          "one rambles about colour cubes video audio clips images criteria judgement".split(),
    "fr": "café naïve élève où garçon déjà vu crème brûlée façade fiancée Noël".split(),
    "de": "Grüße Straße Übermaß Äpfel schön größer Fußgänger".split(),
    "es": "niño mañana año corazón acción pingüino".split(),
    "ru": "привет мир модель награды ответ лучше".split(),
    "el": "καλημέρα κόσμε μοντέλο απάντηση".split(),
    "zh": "中文 模型 奖励 回答 更好 图像 视频 音频".split(),
    "ja": "日本語 ひらがな カタカナ 東京 漢字".split(),
    "ko": "한국어 안녕하세요 모델 보상".split(),
    "ar": "مرحبا نموذج مكافأة".split(),
    "hi": "नमस्ते मॉडल इनाम".split(),
    "th": "สวัสดี โมเดล".split(),
    "emoji": ["🙂", "😀", "👍🏽", "👩‍💻", "🇫🇷", "❤️", "✓", "🚀"],
}
CONTRACTIONS = ["it's", "don't", "you're", "we've", "I'm", "they'll", "he'd", "IT'S", "WE'LL"]
PUNCTUATION = [".", ",", "!", "?", ";", ":", "...", "—", "«", "»", "(", ")", "[x]", "{}",
               "->", "==", "#", "@", "%", "&&", "\"", "'"]


def training_corpus(rng: random.Random, lines: int) -> list:
    """Mixed-language lines with numbers, contractions, code and chat markup."""
    languages = list(WORDS)
    out = []
    for i in range(lines):
        parts = []
        for _ in range(rng.randint(4, 14)):
            roll = rng.random()
            if roll < 0.55:
                parts.append(rng.choice(WORDS["en"]))
            elif roll < 0.75:
                parts.append(rng.choice(WORDS[rng.choice(languages)]))
            elif roll < 0.82:
                parts.append(rng.choice(CONTRACTIONS))
            elif roll < 0.90:
                parts.append(str(rng.randint(0, 10 ** rng.randint(1, 6))))
            else:
                parts.append(rng.choice(PUNCTUATION))
        text = " ".join(parts)
        if i % 7 == 0:
            text = "<|im_start|>user\n" + text + "<|im_end|>\n<|im_start|>assistant\n"
        if i % 11 == 0:
            text = "    def f(x):\n        return x * 2  # " + text
        out.append(text)
    return out


def hand_written_cases() -> list:
    return [
        "",
        "hello world",
        " leading space",
        "trailing space ",
        "trailing spaces   ",
        "   ",
        " ",
        "a  b   c    d",
        "\t",
        "tabs\tbetween\t\twords\t",
        "\n",
        "\n\n\n",
        "line one\nline two\n\nline four\n",
        "carriage\r\nreturn\r\n",
        "mixed \t \n \t whitespace \n\n  ",
        "x \n y",
        "end.\n\nNew paragraph",
        "indent:\n    four spaces\n\ttab\n",
        # Unicode whitespace other than ASCII: NBSP, ideographic space, line separator,
        # next line, vertical tab, form feed, Mongolian vowel separator.
        "no\u00a0break",
        "ideographic\u3000space",
        "line\u2028separator",
        "next\u0085line",
        "vertical\x0btab and form\x0cfeed",
        "mongolian\u180evowel separator, it\u180e's, x \u180e\u180e y",
        "zero\u200bwidth space and\ufeffBOM",
        # Digits.
        "0123456789",
        "3.14159 and -42 and 1,000,000",
        "31415926535897932384626433832795028841971693993751058209749445923078164062862",
        "v2 x9y (7) 1st 2nd 3rd 10th",
        "superscript x² and fullwidth １２３ and arabic-indic ٣٤٥ and roman Ⅻ and ½",
        # Letters and digits newer than Unicode 14 (CJK extension H, Kawi, Garay digits).
        "new \U00031350\U00031351 and \U00011f04\U00011f05 and \U00010d40\U00010d41 9",
        "\U00031350's and \U00010d40'll and \U00011f04've",
        "phone +1-202-555-0143, date 2024-06-30T12:34:56Z",
        # Contractions.
        "it's don't you're we've I'm they'll he'd",
        "IT'S DON'T YOU'RE WE'VE I'M THEY'LL HE'D",
        "It'S mixed'Re cases'Ll",
        "curly ’s apostrophe and ‘quotes’",
        "'s at the start and at the end '",
        "rock 'n' roll, o'clock, y'all",
        "long s: it'\u017f and Kelvin '\u212a",
        # Accents, precomposed and decomposed (NFC composes the latter).
        "café naïve Grüße straße",
        "cafe\u0301 nai\u0308ve Gru\u0308\u00dfe",
        "A\u030angstrom and \u212bngstrom sign and \u00c5",
        "q\u0307\u0323 reorders to q\u0323\u0307",
        "\u1100\u1161\u11a8 Hangul jamo compose to 각",
        "e\u0301\u0301 double accent and lone \u0301 mark",
        "Ωmega \u2126hm sign",
        # Scripts.
        "привет мир καλημέρα κόσμε",
        "中文模型奖励回答更好",
        "日本語のひらがなとカタカナ",
        "한국어 안녕하세요",
        "مرحبا بالعالم",
        "שלום עולם",
        "नमस्ते दुनिया",
        "สวัสดีชาวโลก",
        # Emoji: ZWJ sequences, skin tones, flags, variation selectors.
        "emoji 🙂😀🚀 and 👍🏽 and 👩‍👩‍👧 and 🇫🇷🇯🇵 and ❤️ and ✓",
        "👩‍💻👨‍🔬",
        # Punctuation and code.
        "punctuation !?.,;:'\"()[]{}<>@#$%^&*-_=+/\\|~`",
        "def f(x):\n    return x**2  # square\n",
        '{"key": [1, 2, 3], "nested": {"a": null}}',
        "https://example.com/path?q=1&r=two#frag",
        "a->b => c != d <= e",
        "C:\\Program Files\\omnirm",
        "control \x00 nul \x07 bell \x1b[31m escape \x7f del",
        # Special tokens inside text.
        "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
        "<|im_start|>assistant\n",
        "<|im_start|><|im_end|><|endoftext|>",
        "text<image>more<video><audio><mesh><views>end",
        "<image><image>\n<image>",
        "glued<|im_end|>word and word<|im_start|>glued",
        "almost special: <|im_start and im_end|> and <im_start> and <|im_end| >",
        "<|endoftext|>The end.<|endoftext|>",
        " <|im_start|> spaced <|im_end|> ",
        "<tool_call>{\"name\": \"f\"}</tool_call>",
        "an éclair, an e\u0301clair, eclair, ÉCLAIR",
        "<s></s><unk> are plain text here",
        # Long runs.
        "spaces" + " " * 40 + "end",
        "a" * 120,
        "😀" * 12,
        "\n" * 8 + "after newlines",
        "mixed\t  \n \t whitespace \n\n\n",
    ]


def random_cases(rng: random.Random, count: int) -> list:
    """Random mixtures of the hard parts: scripts, digits, whitespace kinds, specials."""
    pool = []
    for words in WORDS.values():
        pool.extend(words)
    pool += CONTRACTIONS + PUNCTUATION + SPECIAL_TOKENS + ["<tool_call>", "e\u0301clair"]
    pool += ["0", "42", "2024", "3.5", "99999999", "٣", "½", "Ⅻ", "²"]
    pool += ["e\u0301", "a\u0308", "\u212b", "\u1100\u1161", "n\u0303"]
    separators = [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\u00a0", "\u3000", "",
                  " - ", ", "]
    out = []
    for _ in range(count):
        text = ""
        for i in range(rng.randint(1, 10)):
            if i > 0 or rng.random() < 0.2:
                text += rng.choice(separators)
            text += rng.choice(pool)
        if rng.random() < 0.2:
            text += rng.choice([" ", "  ", "\n", "\t"])
        out.append(text)
    return out


def build_tokenizer(corpus: list, vocab_size: int) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE(unk_token=None, continuing_subword_prefix="",
                                     end_of_word_suffix="", fuse_unk=False, byte_fallback=False))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False,
                                           use_regex=False)
    tokenizer.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False,
                                                    use_regex=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, show_progress=False,
        special_tokens=[AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    tokenizer.add_tokens(EXTRA_ADDED)
    return tokenizer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent /
                                             "tests" / "fixtures" / "bpe"))
    parser.add_argument("--vocab-size", type=int, default=1000)
    parser.add_argument("--train-lines", type=int, default=3000)
    parser.add_argument("--random-cases", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    tokenizer = build_tokenizer(training_corpus(rng, args.train_lines), args.vocab_size)
    cases = hand_written_cases() + random_cases(rng, args.random_cases)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.json").write_text(tokenizer.to_str(pretty=False) + "\n", encoding="utf-8")
    with open(out / "cases.jsonl", "w", encoding="utf-8") as f:
        for text in cases:
            ids = tokenizer.encode(text, add_special_tokens=False).ids
            record = {"text": text, "nfc": unicodedata.normalize("NFC", text), "ids": ids}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    meta = {"tokenizers": tokenizers.__version__, "python_unicode": unicodedata.unidata_version,
            "vocab_size": tokenizer.get_vocab_size(with_added_tokens=True),
            "cases": len(cases), "seed": args.seed}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}: vocab {meta['vocab_size']}, {len(cases)} cases, "
          f"tokenizers {tokenizers.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
