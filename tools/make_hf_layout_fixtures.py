#!/usr/bin/env python3
"""Writes tests/fixtures/hf_layouts/: tiny checkpoints whose tensor names and shapes come
from the libraries that define them, as an independent reference for omnirm's name mapping
and config.json reader (tests/unit/model/hf_fixture_test.cpp).

Run by hand (needs torch, transformers and safetensors, see tools/setup.sh):
    ~/.local/share/omnirm/venv/bin/python tools/make_hf_layout_fixtures.py

minicpmo/   MiniCPM-o-2.6's composite layout at toy sizes: transformers' Qwen2ForCausalLM
            under "llm.", SigLIP's vision transformer (last layer dropped, no pooling head)
            under "vpm.", a perceiver resampler with MiniCPM's parameter structure (learned
            queries, kv_proj, torch MultiheadAttention, three LayerNorms, a proj matrix used
            as x @ proj, all at the LLM's width), Whisper's encoder under "apm.", the audio
            projection (linear1, linear2), a stand-in "tts." tensor, and LLaMA-Factory's
            value head in value_head.safetensors; config.json in MiniCPM-o's shape.
llama_cls/  transformers' LlamaForSequenceClassification (num_labels 1) and its config.json.
"""
import json
import pathlib

import torch
from safetensors.torch import save_file
from torch import nn
from transformers import (LlamaConfig, LlamaForSequenceClassification, Qwen2Config,
                          Qwen2ForCausalLM, SiglipVisionConfig, SiglipVisionModel,
                          WhisperConfig)
from transformers.models.whisper.modeling_whisper import WhisperEncoder

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hf_layouts"


class PerceiverResampler(nn.Module):
    """The parameter structure of MiniCPM-V / MiniCPM-o's resampler (values are random)."""

    def __init__(self, queries, width, heads, kv_width):
        super().__init__()
        self.query = nn.Parameter(torch.randn(queries, width))
        self.kv_proj = nn.Linear(kv_width, width, bias=False)
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_q = nn.LayerNorm(width)
        self.ln_kv = nn.LayerNorm(width)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, width))


class AudioProjection(nn.Module):
    def __init__(self, in_width, out_width):
        super().__init__()
        self.linear1 = nn.Linear(in_width, out_width)
        self.linear2 = nn.Linear(out_width, out_width)


def prefixed(prefix, module):
    return {prefix + name: tensor.detach().contiguous() for name, tensor in
            module.state_dict().items()}


def randomise(module):
    # Distinct values everywhere (LayerNorms start at 1 / 0), so a misplaced copy shows.
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.1)


def minicpmo():
    llm_config = Qwen2Config(hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, vocab_size=64,
                             rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
                             max_position_embeddings=128)
    vision_config = SiglipVisionConfig(hidden_size=8, intermediate_size=16, num_hidden_layers=3,
                                       num_attention_heads=2, image_size=56, patch_size=14,
                                       vision_use_head=False)
    audio_config = WhisperConfig(d_model=8, encoder_layers=1, encoder_attention_heads=2,
                                 encoder_ffn_dim=16, num_mel_bins=8, max_source_positions=10,
                                 decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=16)
    llm = Qwen2ForCausalLM(llm_config)
    vpm = SiglipVisionModel(vision_config).vision_model
    vpm.encoder.layers = vpm.encoder.layers[:-1]  # drop_vision_last_layer
    resampler = PerceiverResampler(queries=4, width=16, heads=2, kv_width=8)
    apm = WhisperEncoder(audio_config)
    projection = AudioProjection(8, 16)
    head = nn.Linear(16, 1)
    for module in (llm, vpm, resampler, apm, projection, head):
        randomise(module)
    tensors = {}
    tensors.update(prefixed("llm.", llm))
    tensors.update(prefixed("vpm.", vpm))
    tensors.update(prefixed("resampler.", resampler))
    tensors.update(prefixed("apm.", apm))
    tensors.update(prefixed("audio_projection_layer.", projection))
    tensors["tts.projector.weight"] = torch.randn(3, 4)
    out = OUT / "minicpmo"
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    save_file(prefixed("v_head.summary.", head), str(out / "value_head.safetensors"),
              metadata={"format": "pt"})
    config = llm_config.to_diff_dict()
    config.update({
        "architectures": ["MiniCPMO"], "model_type": "minicpmo", "query_num": 4,
        "drop_vision_last_layer": True, "audio_pool_step": 2, "init_vision": True,
        "init_audio": True, "init_tts": True,
        # MiniCPM-o's names at toy sizes for omnirm's own towers (its MiniCPM-o path needs an
        # LLM width of 128 or more), as an omnirm export of them says.
        "omnirm_arch": "omnirm",
        "slice_config": {"max_slice_nums": 9, "patch_size": 14, "scale_resolution": 28},
        "vision_config": vision_config.to_diff_dict(),
        "audio_config": audio_config.to_diff_dict(),
    })
    config["vision_config"].update({"hidden_size": 8, "intermediate_size": 16,
                                    "num_hidden_layers": 3, "num_attention_heads": 2,
                                    "image_size": 56, "patch_size": 14})
    config["audio_config"].update({"d_model": 8, "encoder_layers": 1,
                                   "encoder_attention_heads": 2, "encoder_ffn_dim": 16,
                                   "num_mel_bins": 8, "max_source_positions": 10})
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def llama_cls():
    config = LlamaConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, vocab_size=48,
                         rms_norm_eps=1e-5, num_labels=1, max_position_embeddings=128)
    config.architectures = ["LlamaForSequenceClassification"]
    model = LlamaForSequenceClassification(config)
    randomise(model)
    out = OUT / "llama_cls"
    out.mkdir(parents=True, exist_ok=True)
    save_file(prefixed("", model), str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(config.to_json_string(use_diff=False))


def main():
    torch.manual_seed(0)
    minicpmo()
    llama_cls()
    for path in sorted(OUT.rglob("*")):
        if path.is_file():
            print(f"wrote {path.relative_to(OUT.parent.parent.parent)} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
