#!/usr/bin/env python3
"""Scores pair records with an `omnirm export` directory loaded by transformers, the way a
transformers user would: AutoTokenizer + AutoModelForSequenceClassification (fp32, eager
attention), each response rendered with the export's chat template as the assistant turn
after the criteria (system turn, omitted when empty) and the prompt turns, the sequences
right-padded into one batch (the head reads the last non-pad token), plus config.json's
"omnirm_score_bias" (the value head bias, which Qwen2ForSequenceClassification lacks).

  ~/.local/share/omnirm/venv/bin/python tools/check_hf_export.py EXPORT_DIR PAIRS.jsonl...

Prints one JSON line per pair, in input order, like `omnirm score`:
  {"id", "reward_chosen", "reward_rejected", "tokens_chosen", "tokens_rejected",
   "split_ids_equal"}
where split_ids_equal says whether tokenizing the whole conversation gave the ids omnirm
uses (the prompt up to the assistant header and each response tokenized on their own).
Only text content parts are supported. Exit 2 with one line on unusable input; exit 77 with
a line starting "skipped:" when torch or transformers cannot be imported (tests skip then).
"""

import json
import sys
from pathlib import Path


def fail(code, message):
    print(f"check_hf_export: {message}", file=sys.stderr)
    sys.exit(code)


try:
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
except Exception as error:  # ImportError, or transformers' own dependency version check
    print(f"skipped: cannot import torch/transformers ({error}); tools/setup.sh --deps "
          "installs them", file=sys.stderr)
    sys.exit(77)


def text_of(content, where):
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if part.get("type") != "text":
            fail(2, f"{where}: content part of type '{part.get('type')}': only text is supported")
        parts.append(part["text"])
    return "".join(parts)


def read_pairs(paths):
    pairs = []
    for path in paths:
        for number, line in enumerate(Path(path).read_text().splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            record = json.loads(line)
            messages = []
            if record.get("criteria"):
                messages.append({"role": "system", "content": record["criteria"]})
            for turn in record.get("prompt", []):
                messages.append({"role": turn["role"], "content": text_of(turn["content"], where)})
            pairs.append({"id": record.get("id", where), "messages": messages,
                          "chosen": text_of(record["chosen"]["content"], where),
                          "rejected": text_of(record["rejected"]["content"], where)})
    return pairs


def main():
    if len(sys.argv) < 3:
        fail(2, "usage: check_hf_export.py EXPORT_DIR PAIRS.jsonl...")
    export = Path(sys.argv[1])
    if not (export / "config.json").is_file():
        fail(2, f"{export}: no config.json; pass a directory written by `omnirm export`")
    # A tokenizer.json loads as a fast tokenizer; a sentencepiece model through the slow
    # LlamaTokenizer (converting it to a fast one would change its normalisation).
    use_fast = (export / "tokenizer.json").is_file()
    tokenizer = AutoTokenizer.from_pretrained(export, use_fast=use_fast)
    tokenizer.padding_side = "right"
    model = AutoModelForSequenceClassification.from_pretrained(
        export, dtype=torch.float32, attn_implementation="eager").eval()
    bias = float(getattr(model.config, "omnirm_score_bias", 0.0))
    pairs = read_pairs(sys.argv[2:])

    texts, split_ids = [], []
    for pair in pairs:
        prompt = tokenizer.apply_chat_template(pair["messages"], tokenize=False,
                                               add_generation_prompt=True)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        for side in ("chosen", "rejected"):
            conversation = pair["messages"] + [{"role": "assistant", "content": pair[side]}]
            texts.append(tokenizer.apply_chat_template(conversation, tokenize=False))
            response = tokenizer(pair[side] + "<|im_end|>\n", add_special_tokens=False)
            split_ids.append(prompt_ids + response["input_ids"])
    batch = tokenizer(texts, add_special_tokens=False, padding=True, return_tensors="pt")
    with torch.no_grad():
        rewards = model(**batch).logits[:, 0].double() + bias
    lengths = batch["attention_mask"].sum(-1).tolist()
    for i, pair in enumerate(pairs):
        ids = [batch["input_ids"][2 * i + k, :lengths[2 * i + k]].tolist() for k in (0, 1)]
        print(json.dumps({"id": pair["id"],
                          "reward_chosen": rewards[2 * i].item(),
                          "reward_rejected": rewards[2 * i + 1].item(),
                          "tokens_chosen": lengths[2 * i], "tokens_rejected": lengths[2 * i + 1],
                          "split_ids_equal": ids[0] == split_ids[2 * i] and
                                             ids[1] == split_ids[2 * i + 1]}))
    print(f"check_hf_export: {len(pairs)} pairs scored with transformers "
          f"{transformers.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
