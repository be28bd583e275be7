#!/usr/bin/env python3
"""Loads an `omnirm export` of a MiniCPM-o-path model (model.arch minicpmo) with the reference
code — MiniCPM-o-2.6's modeling and processing files and the Omni-Reward LLaMA-Factory fork,
as tools/make_minicpmo_fixtures.py uses them — and scores the fixture's pair records with it.

The export must load strictly (every tensor of MiniCPM-o's state dict present with its shape;
only llm.lm_head may be absent, a reward model has none), and with --expect the rewards must
equal the given reference.json's within --tolerance. Exit status 1 otherwise.

  /work/venvs/minicpmo-ref/bin/python tools/check_minicpmo_export.py \\
      --minicpmo PATH/TO/MiniCPM-o-2_6 --factory PATH/TO/OmniReward-Factory --export DIR \\
      [--pairs tests/fixtures/minicpmo/pairs.jsonl] [--expect tests/fixtures/minicpmo/reference.json]

For example, the fixture model exported by omnirm scores as the reference did:
  omnirm export -m tests/fixtures/minicpmo -o /tmp/minicpmo-export --layout minicpmo
"""

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_minicpmo_fixtures as fx  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minicpmo", required=True)
    parser.add_argument("--factory", required=True)
    parser.add_argument("--export", required=True, help="an omnirm export directory")
    fixtures = Path(__file__).resolve().parent.parent / "tests/fixtures/minicpmo"
    parser.add_argument("--pairs", default=str(fixtures / "pairs.jsonl"))
    parser.add_argument("--expect", default=None, help="reference.json with the expected rewards")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    export = Path(args.export)
    ref = fx.import_reference(args.minicpmo, args.factory)
    config_dict = json.loads((export / "config.json").read_text())
    config = ref.configuration_minicpm.MiniCPMOConfig(
        **{k: v for k, v in config_dict.items() if k not in ("architectures", "model_type")})
    config.init_tts = False
    for c in (config, config.vision_config, config.audio_config):
        c._attn_implementation = "eager"
    modeling = ref.modeling_minicpmo
    original = modeling.AutoProcessor.from_pretrained
    modeling.AutoProcessor.from_pretrained = staticmethod(lambda *a, **k: None)
    try:
        model = modeling.MiniCPMO(config).float().eval()
    finally:
        modeling.AutoProcessor.from_pretrained = original
    from safetensors.torch import load_file
    weights = {}
    index = export / "model.safetensors.index.json"
    shards = (sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists()
              else ["model.safetensors"])
    for shard in shards:
        weights.update(load_file(str(export / shard)))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [m for m in missing if not m.startswith("llm.lm_head") and not m.endswith("pos_embed")]
    if missing or unexpected:
        print(f"export does not load strictly: missing {missing[:5]}, unexpected {unexpected[:5]}")
        return 1
    from trl.models.modeling_value_head import ValueHead
    v_head = ValueHead(model.config, summary_dropout_prob=0.1).eval()
    head = load_file(str(export / "value_head.safetensors"))
    v_head.summary.weight.data.copy_(head["v_head.summary.weight"])
    v_head.summary.bias.data.copy_(head["v_head.summary.bias"])
    tokenizer = ref.tokenization_minicpmo_fast.MiniCPMOTokenizerFast(
        tokenizer_file=str(export / "tokenizer.json"), unk_token="<unk>", eos_token="<|im_end|>",
        pad_token="<|endoftext|>", bos_token=None)
    fx.SLICE.update(scale_resolution=config.slice_config.scale_resolution,
                    max_slice_nums=config.slice_config.max_slice_nums)
    processor = fx.make_processor(ref, tokenizer)
    captured = {}
    fx.install_hooks(model, captured)
    expected = json.loads(Path(args.expect).read_text())["cases"] if args.expect else None
    root = Path(args.pairs).parent
    worst = 0.0
    for line in Path(args.pairs).read_text().splitlines():
        record = json.loads(line)
        for side in ("chosen", "rejected"):
            messages, media = [], []
            for turn in record["prompt"]:
                text = ""
                for part in turn["content"]:
                    if part["type"] == "text":
                        text += part["text"]
                    else:
                        text += "<" + part["type"] + ">"
                        media.append((part["type"], str(root / part["path"])))
                messages.append({"role": turn["role"], "content": text})
            text = ""
            for part in record[side]["content"]:
                if part["type"] == "text":
                    text += part["text"]
                else:
                    text += "<" + part["type"] + ">"
                    media.append((part["type"], str(root / part["path"])))
            messages.append({"role": "assistant", "content": text})
            images = [p for t, p in media if t == "image"]
            videos = [p for t, p in media if t == "video"]
            audios = [p for t, p in media if t == "audio"]
            with torch.no_grad():
                r = fx.run_sequence(ref, model, v_head, processor, tokenizer, record["criteria"],
                                    messages, images, videos, audios, captured)
            line = f"{record['id']}/{side}: reward {r['reward']:.6f}"
            if expected is not None:
                diff = abs(r["reward"] - expected[record["id"]][side]["reward"])
                worst = max(worst, diff)
                line += f"  |diff| {diff:.2e}"
            print(line)
    if expected is not None:
        print(f"max |diff| {worst:.3g} (tolerance {args.tolerance})")
        return 0 if worst <= args.tolerance else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
