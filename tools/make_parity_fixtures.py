#!/usr/bin/env python3
"""Builds the HF parity fixtures under tests/fixtures/parity/ (read by
tests/unit/model/hf_parity_test.cpp and tests/unit/media/hf_log_mel_parity_test.cpp).

With a fixed seed it builds tiny random-weight models of each family omnirm implements, runs
them in fp32 with eager attention on fixed inputs, and writes:

  qwen2.safetensors          Qwen2ForSequenceClassification weights, HF names (model.*, score.weight)
  qwen2_io.safetensors       input_ids [2, L] int64 (row 1 right-padded with pad_token_id),
                             lengths [2] int64, prompt_length [1] int64 (both rows start with
                             the same prompt_length tokens), hidden [2, L, D] (Qwen2Model last_hidden_state,
                             after the final norm), rewards [2] (seq-cls logits at the last
                             non-pad token)
  siglip.safetensors         SiglipVisionModel weights (vision_model.*)
  siglip_io.safetensors      pixel_values [2, 3, S, S], last_hidden_state [2, P, D]
  whisper.safetensors        WhisperEncoder weights, as WhisperModel names them (encoder.*)
  whisper_io.safetensors     input_features [2, n_mels, 2 * max_source_positions],
                             last_hidden_state [2, max_source_positions, D]
  log_mel_io.safetensors     waveform [samples] (16 kHz), input_features [n_mels, frames] from
                             WhisperFeatureExtractor (no padding to 30 s)
  meta.json                  the model configs, versions of torch and transformers, and the
                             shapes above

Every weight, bias and norm scale is redrawn at random after construction (HF initialises
biases to zero and norms to one, which would leave them untested). Needs torch,
transformers and safetensors (tools/setup.sh installs them into the omnirm venv); no network.

  ~/.local/share/omnirm/venv/bin/python tools/make_parity_fixtures.py [--out tests/fixtures/parity]
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from transformers import (Qwen2Config, Qwen2ForSequenceClassification, SiglipVisionConfig,
                          SiglipVisionModel, WhisperConfig, WhisperFeatureExtractor)
from transformers.models.whisper.modeling_whisper import WhisperEncoder

SEED = 1234

QWEN2 = dict(vocab_size=96, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=10000.0,
             max_position_embeddings=256, tie_word_embeddings=False, num_labels=1,
             pad_token_id=95, use_sliding_window=False)
QWEN2_LENGTHS = [13, 9]  # row 0 unpadded, row 1 right-padded to 13
QWEN2_PROMPT = 7  # both rows start with the same 7 tokens: a prompt, then two responses

SIGLIP = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
              num_channels=3, image_size=32, patch_size=8, layer_norm_eps=1e-6,
              hidden_act="gelu_pytorch_tanh", vision_use_head=False)

WHISPER = dict(num_mel_bins=80, d_model=32, encoder_layers=2, encoder_attention_heads=4,
               encoder_ffn_dim=64, decoder_layers=1, decoder_attention_heads=4,
               decoder_ffn_dim=64, max_source_positions=30, vocab_size=64,
               max_target_positions=16, activation_function="gelu")

LOG_MEL_SAMPLES = 8000  # 0.5 s at 16 kHz: 50 frames


def randomize(module, generator):
    """Redraws every parameter: matrices N(0, 1/sqrt(fan_in)), vectors of LayerNorm/RMSNorm
    scales 1 + N(0, 0.1), other vectors (biases, embeddings rows) N(0, 0.1)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("embed_positions.weight"):
                continue  # Whisper's fixed sinusoids
            if p.dim() >= 2:
                fan_in = p[0].numel()
                std = 1.0 / math.sqrt(fan_in) if "embed" not in name else 0.5
                p.copy_(torch.randn(p.shape, generator=generator) * std)
            elif name.endswith("weight"):  # norm scales
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))


def contiguous(tensors):
    return {k: v.detach().contiguous().clone() for k, v in tensors.items()}


def make_qwen2(out, generator):
    config = Qwen2Config(**QWEN2)
    config._attn_implementation = "eager"
    model = Qwen2ForSequenceClassification(config).eval()
    randomize(model, generator)
    length = max(QWEN2_LENGTHS)
    ids = torch.randint(0, QWEN2["pad_token_id"], (len(QWEN2_LENGTHS), length), generator=generator)
    mask = torch.zeros_like(ids)
    for row, n in enumerate(QWEN2_LENGTHS):
        ids[row, n:] = QWEN2["pad_token_id"]
        mask[row, :n] = 1
    ids[1, :QWEN2_PROMPT] = ids[0, :QWEN2_PROMPT]
    with torch.no_grad():
        hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
        rewards = model(input_ids=ids, attention_mask=mask).logits.squeeze(-1)
    # The seq-cls head reads the last non-pad token; check that is the last real token.
    expected = torch.stack([model.score(hidden[r, n - 1]) for r, n in enumerate(QWEN2_LENGTHS)])
    assert torch.allclose(expected.squeeze(-1), rewards, atol=1e-6), (expected, rewards)
    save_file(contiguous(model.state_dict()), out / "qwen2.safetensors")
    save_file(contiguous({"input_ids": ids, "lengths": torch.tensor(QWEN2_LENGTHS),
                          "prompt_length": torch.tensor([QWEN2_PROMPT]),
                          "hidden": hidden, "rewards": rewards}), out / "qwen2_io.safetensors")
    return {"config": QWEN2, "input_ids": list(ids.shape), "hidden": list(hidden.shape)}


def make_siglip(out, generator):
    config = SiglipVisionConfig(**SIGLIP)
    config._attn_implementation = "eager"
    model = SiglipVisionModel(config).eval()
    randomize(model, generator)
    size = SIGLIP["image_size"]
    pixels = torch.rand((2, 3, size, size), generator=generator) * 2.0 - 1.0
    with torch.no_grad():
        hidden = model(pixel_values=pixels).last_hidden_state
    save_file(contiguous(model.state_dict()), out / "siglip.safetensors")
    save_file(contiguous({"pixel_values": pixels, "last_hidden_state": hidden}),
              out / "siglip_io.safetensors")
    return {"config": SIGLIP, "pixel_values": list(pixels.shape), "hidden": list(hidden.shape)}


def make_whisper(out, generator):
    config = WhisperConfig(**WHISPER)
    config._attn_implementation = "eager"
    encoder = WhisperEncoder(config).eval()
    randomize(encoder, generator)
    frames = 2 * WHISPER["max_source_positions"]
    mel = torch.randn((2, WHISPER["num_mel_bins"], frames), generator=generator) * 0.5
    with torch.no_grad():
        hidden = encoder(input_features=mel).last_hidden_state
    weights = {"encoder." + k: v for k, v in encoder.state_dict().items()}
    save_file(contiguous(weights), out / "whisper.safetensors")
    save_file(contiguous({"input_features": mel, "last_hidden_state": hidden}),
              out / "whisper_io.safetensors")
    return {"config": WHISPER, "input_features": list(mel.shape), "hidden": list(hidden.shape)}


def make_log_mel(out, generator):
    t = np.arange(LOG_MEL_SAMPLES, dtype=np.float64) / 16000.0
    noise = torch.randn((LOG_MEL_SAMPLES,), generator=generator, dtype=torch.float64).numpy()
    wave = (0.4 * np.sin(2 * np.pi * 330.0 * t) + 0.2 * np.sin(2 * np.pi * (150.0 * t + 4000.0 * t * t))
            + 0.05 * noise)
    wave[t >= 0.4] *= 0.01  # a quiet tail, so the dynamic-range floor is reached
    wave = wave.astype(np.float32)
    extractor = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160,
                                        n_fft=400)
    features = extractor(wave, sampling_rate=16000, padding="longest", return_tensors="pt")
    mel = features["input_features"][0].to(torch.float32)
    save_file(contiguous({"waveform": torch.from_numpy(wave), "input_features": mel}),
              out / "log_mel_io.safetensors")
    return {"samples": LOG_MEL_SAMPLES, "input_features": list(mel.shape)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent /
                                              "tests/fixtures/parity"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    meta = {"seed": SEED, "torch": torch.__version__, "transformers": transformers.__version__,
            "qwen2": make_qwen2(out, generator), "siglip": make_siglip(out, generator),
            "whisper": make_whisper(out, generator), "log_mel": make_log_mel(out, generator)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    total = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {len(list(out.iterdir()))} files, {total} bytes, to {out}")


if __name__ == "__main__":
    main()
