#!/usr/bin/env python3
"""Builds the MiniCPM-o parity fixtures under tests/fixtures/minicpmo/ (read by
tests/unit/model/minicpmo_parity_test.cpp and the data/media tests named there).

It runs the reference pipeline itself, on a tiny random-weight MiniCPM-o, in fp32 on the CPU:
the Omni-Reward authors' LLaMA-Factory fork (its `minicpm_o` template and MiniCPM-V plugin,
imported from --factory) over MiniCPM-o-2.6's own modeling and processing code (imported from
--minicpmo: the model repository's .py files). Neither is part of omnirm: point the script at
your copies. For every case it renders each sequence (prompt + one response) exactly as the
fork's pairwise processor does (`process_messages`, `encode_oneturn`, `get_mm_inputs`), runs
`MiniCPMO.forward` with eager attention and reads the reward with TRL's value head at the last
token, the way LLaMA-Factory's pairwise trainer does. Writes:

  tokenizer.json            a small byte-level BPE in Qwen2's configuration with MiniCPM-o's
                            special tokens (trained here; the real one is 7 MB)
  config.json               the tiny model's MiniCPM-o config (what MiniCPMOConfig.to_dict writes)
  preprocessor_config.json  the image processor's slice settings
  model.safetensors         the weights under MiniCPM-o's names (llm.*, vpm.*, resampler.*,
                            apm.*, audio_projection_layer.*)
  value_head.safetensors    v_head.summary.weight [1, D], v_head.summary.bias [1]
  media/                    the images (PNG), videos (MP4, MKV) and audio clips (FLAC) of the
                            cases; media/frames/ the video frames the reference decoded (PNG)
  pairs.jsonl               the cases as omnirm pair records
  reference.json            per case and side: token ids, reward, slice grids and sizes; per
                            video the sampled frame indices, the frame files, each frame's
                            grid, the declared frame count and duration, and whether omnirm's
                            decoder gives the same RGB (frames_exact)
  reference.safetensors     per case and side: the reference's pixel values of every slice
                            ([3, H, W]), SigLIP output ([P, Dv], real patches only), resampler
                            output ([64, D], first and last slice of a sequence), audio mel chunks ([80, T]) and audio embeddings
                            ([n, D]), LLM hidden state at the read token ([D])

Setup (once): bash tools/minicpmo_reference_venv.sh (pinned requirements in
tools/minicpmo_reference_requirements.txt). Regenerate the fixtures with:

  /work/venvs/minicpmo-ref/bin/python tools/make_minicpmo_fixtures.py \
      --minicpmo PATH/TO/MiniCPM-o-2_6 --factory PATH/TO/OmniReward-Factory \
      [--out tests/fixtures/minicpmo]

--minicpmo needs modeling_minicpmo.py, modeling_navit_siglip.py, resampler.py,
configuration_minicpm.py, image_processing_minicpmv.py, processing_minicpmo.py,
tokenization_minicpmo_fast.py and utils.py; --factory the fork's checkout (src/llamafactory).
The slice resolution is scaled down (56 instead of 448, max 9 slices) so that the pixel
fixtures stay small, and with it the plugin's video frame cap (56² instead of 256² pixels: a
frame above 448² would be cut into slices, which the plugin's video layout cannot express, so
the real cap, 256², stays below 448² the way 56² stays at the tiny one); everything else is
MiniCPM-o-2.6's processing. Deterministic for a fixed seed and package versions.
"""

import argparse
import importlib
import json
import math
import os
import sys
import types
from pathlib import Path

import librosa
import numpy as np
import torch
from PIL import Image

SEED = 1234

# The tiny model. The LLM width is divisible by 128 (the resampler's heads are width / 128);
# Whisper's ffn is 4 * d_model (MiniCPM-o sizes its audio projector from ffn / 4).
LLM = dict(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
           num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=1000000.0,
           max_position_embeddings=32768, tie_word_embeddings=False, use_sliding_window=False,
           hidden_act="silu")
VISION = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=4,
              num_channels=3, image_size=980, patch_size=14, hidden_act="gelu_pytorch_tanh",
              layer_norm_eps=1e-6)
AUDIO = dict(d_model=32, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=128,
             decoder_layers=1, decoder_attention_heads=4, decoder_ffn_dim=128, num_mel_bins=80,
             max_source_positions=1500, vocab_size=64, activation_function="gelu")
SLICE = dict(patch_size=14, max_slice_nums=9, scale_resolution=56)
# LLaMA-Factory's video settings: the recipe's --video_maxlen 4 and video_fps 2.0, and the frame
# area cap (video_max_pixels) scaled with the slice resolution (see the module docstring).
VIDEO = dict(maxlen=4, fps=2.0, max_pixels=56 * 56)

SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>",
    "<image>", "</image>", "<ref>", "</ref>", "<box>", "</box>", "<quad>", "</quad>",
    "<point>", "</point>", "<slice>", "</slice>", "<image_id>", "</image_id>", "<unit>",
    "</unit>", "<|audio_start|>", "<|audio|>", "<|audio_end|>", "<|spk_bos|>", "<|spk|>",
    "<|spk_eos|>", "<|tts_bos|>", "<|tts_eos|>", "<|listen|>", "<|speak|>", "<|interrupt|>",
    "<|vad_start|>", "<|vad_end|>",
]
QWEN2_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
    r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
CORPUS = (
    "Describe the image in detail. Which answer is better? The picture shows a red cube on a "
    "blue table next to a green sphere. A cat sits on the mat. Listen to the clip and say what "
    "you hear: a bird sings, then a car passes. Prefer the response that is concise and "
    "accurate. Prefer the image whose colours match the prompt. Edit the photo so that the sky "
    "is orange. Generate a short melody played on a piano. You are Qwen, created by Alibaba "
    "Cloud. You are a helpful assistant. 0123456789 "
)


# ---------------------------------------------------------------------------------------------
# Importing the reference code.

def import_reference(minicpmo_dir, factory_dir):
    """The model repository's files as package `minicpmo_ref`, and the fork's llamafactory."""
    sys.path.insert(0, str(Path(factory_dir) / "src"))
    os.environ.setdefault("DISABLE_VERSION_CHECK", "1")
    import transformers  # noqa: F401  (before the stub below, which it must not see)
    # TTS-only imports of the processor: optional with init_tts=False.
    try:
        import torchaudio  # noqa: F401
    except ImportError:
        sys.modules["torchaudio"] = types.ModuleType("torchaudio")
    package = types.ModuleType("minicpmo_ref")
    package.__path__ = [str(Path(minicpmo_dir))]
    sys.modules["minicpmo_ref"] = package
    ref = types.SimpleNamespace()
    for name in ["configuration_minicpm", "modeling_navit_siglip", "resampler",
                 "image_processing_minicpmv", "processing_minicpmo",
                 "tokenization_minicpmo_fast", "modeling_minicpmo"]:
        setattr(ref, name, importlib.import_module("minicpmo_ref." + name))
    from llamafactory.data.template import TEMPLATES  # noqa: E402
    ref.template = TEMPLATES["minicpm_o"]
    return ref


# ---------------------------------------------------------------------------------------------
# The tiny tokenizer, processor and model.

def make_tokenizer(out, ref):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=420, min_frequency=1, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[AddedToken(t, special=True, normalized=False)
                                                  for t in SPECIAL_TOKENS])
    tok.train_from_iterator([CORPUS] * 4, trainer=trainer)
    path = out / "tokenizer.json"
    tok.save(str(path))
    tokenizer = ref.tokenization_minicpmo_fast.MiniCPMOTokenizerFast(
        tokenizer_file=str(path), unk_token="<unk>", eos_token="<|im_end|>",
        pad_token="<|endoftext|>", bos_token=None)
    return tokenizer


def make_processor(ref, tokenizer):
    from transformers import WhisperFeatureExtractor
    image_processor = ref.image_processing_minicpmv.MiniCPMVImageProcessor(
        max_slice_nums=SLICE["max_slice_nums"], scale_resolution=SLICE["scale_resolution"],
        patch_size=SLICE["patch_size"], use_image_id=True, image_feature_size=64,
        slice_mode=True, norm_mean=[0.5, 0.5, 0.5], norm_std=[0.5, 0.5, 0.5], version=2.6)
    extractor = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160,
                                        chunk_length=30, n_fft=400)
    processor = ref.processing_minicpmo.MiniCPMOProcessor(image_processor, extractor, tokenizer)
    # What LLaMA-Factory's patch_processor sets (its model_args defaults; the recipe's
    # --video_maxlen 4).
    processor.image_resolution = 768 * 768
    processor.video_resolution = VIDEO["max_pixels"]
    processor.video_fps = VIDEO["fps"]
    processor.video_maxlen = VIDEO["maxlen"]
    return processor


def randomize(module, generator):
    """Every parameter redrawn (HF zeroes biases and sets norms to one, which would leave them
    untested); Whisper's fixed sinusoids are kept."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("embed_positions.weight"):
                continue
            if p.dim() >= 2:
                std = 1.0 / math.sqrt(p[0].numel())
                if "embed_tokens" in name or "position_embedding" in name:
                    std = 0.5
                if name.endswith("resampler.query"):
                    std = 1.0
                p.copy_(torch.randn(p.shape, generator=generator) * std)
            elif name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))


def make_model(ref, tokenizer, generator, out):
    config = ref.configuration_minicpm.MiniCPMOConfig(
        vocab_size=len(tokenizer), query_num=64, image_size=448, drop_vision_last_layer=True,
        slice_config=SLICE, vision_config=VISION, audio_config=AUDIO, use_image_id=True,
        vision_batch_size=16, audio_pool_step=2, audio_chunk_length=1.0, init_vision=True,
        init_audio=True, init_tts=False, chunk_input=True, **LLM)
    config._attn_implementation = "eager"
    config.vision_config._attn_implementation = "eager"
    config.audio_config._attn_implementation = "eager"
    config.architectures = ["MiniCPMO"]
    modeling = ref.modeling_minicpmo
    # MiniCPMO.__init__ loads a processor from its own directory (chat only): not needed here.
    original = modeling.AutoProcessor.from_pretrained
    modeling.AutoProcessor.from_pretrained = staticmethod(lambda *a, **k: None)
    try:
        model = modeling.MiniCPMO(config)
    finally:
        modeling.AutoProcessor.from_pretrained = original
    model = model.float().eval()
    randomize(model, generator)
    from trl.models.modeling_value_head import ValueHead
    v_head = ValueHead(model.config, summary_dropout_prob=0.1).eval()
    with torch.no_grad():
        v_head.summary.weight.copy_(torch.randn(v_head.summary.weight.shape, generator=generator)
                                    / math.sqrt(LLM["hidden_size"]))
        v_head.summary.bias.copy_(0.1 * torch.randn((1,), generator=generator))
    from safetensors.torch import save_file
    # No LM head: a reward model computes no token logits (omnirm ignores llm.lm_head).
    weights = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()
               if not k.endswith("pos_embed") and not k.startswith("llm.lm_head")}
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    save_file({"v_head.summary.weight": v_head.summary.weight.detach().clone(),
               "v_head.summary.bias": v_head.summary.bias.detach().clone()},
              str(out / "value_head.safetensors"))
    config_dict = config.to_dict()
    (out / "config.json").write_text(json.dumps(config_dict, indent=1, sort_keys=True) + "\n")
    (out / "preprocessor_config.json").write_text(json.dumps(
        {"image_processor_type": "MiniCPMVImageProcessor", "max_slice_nums": 9,
         "scale_resolution": SLICE["scale_resolution"], "patch_size": 14, "use_image_id": True,
         "image_feature_size": 64, "slice_mode": True, "norm_mean": [0.5] * 3,
         "norm_std": [0.5] * 3, "feature_size": 80, "sampling_rate": 16000, "hop_length": 160,
         "chunk_length": 30, "n_fft": 400}, indent=1) + "\n")
    return model, v_head


# ---------------------------------------------------------------------------------------------
# Media of the cases.

def block_image(path, width, height, generator, block=4):
    """Random colours in block x block squares: compresses well as PNG, and any misplaced
    sample of a resize shows."""
    from PIL import Image
    bw, bh = (width + block - 1) // block, (height + block - 1) // block
    colours = torch.randint(0, 256, (bh, bw, 3), generator=generator, dtype=torch.uint8).numpy()
    pixels = np.repeat(np.repeat(colours, block, axis=0), block, axis=1)[:height, :width]
    Image.fromarray(pixels, "RGB").save(path)
    return str(path)


def tone_clip(path, seconds, generator):
    """A 16 kHz mono clip of tones whose pitch steps each second (plus a little noise in short
    clips), as FLAC (lossless; pure tones compress well, so long clips stay small)."""
    import soundfile
    n = int(round(seconds * 16000))
    t = np.arange(n) / 16000.0
    pitches = 200.0 + 60.0 * torch.randint(0, 12, (int(seconds) + 1,), generator=generator).numpy()
    f = pitches[(t // 1.0).astype(int)]
    noise = torch.randn((n,), generator=generator, dtype=torch.float64).numpy()
    wave = 0.3 * np.sin(2 * np.pi * f * t) + (0.02 * noise if seconds < 10 else 0.0)
    wave[t % 1.0 > 0.8] *= 0.05
    pcm = np.clip(np.round(wave * 32767.0), -32768, 32767).astype(np.int16)
    soundfile.write(str(path), pcm, 16000, format="FLAC", subtype="PCM_16")
    return str(path)


def block_video(path, width, height, frames, fps, codec, pix_fmt, generator, options=None,
                block=4):
    """`frames` frames of random colours in block x block squares at `fps`, encoded by `codec`
    (PyAV). An RGB codec (libx264rgb at qp 0, FFV1 in bgr0) decodes to exactly these pixels, so
    omnirm's decoder and the reference's see the same frames whatever the RGB conversion; the
    RGB of a YUV 4:2:0 codec depends on the converter (its sequences are marked frames_exact:
    false), and its small blocks make a different chroma interpolation show."""
    import av
    from fractions import Fraction
    container = av.open(str(path), "w")
    stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
    stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
    if options:
        stream.options = options
    for _ in range(frames):
        colours = torch.randint(0, 256, ((height + block - 1) // block,
                                         (width + block - 1) // block, 3),
                                generator=generator, dtype=torch.uint8).numpy()
        pixels = np.repeat(np.repeat(colours, block, axis=0), block, axis=1)[:height, :width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return str(path)


def reference_frames(plugin, path, frames_dir):
    """The frames the plugin samples from a video (its own index rule, decoded the way its
    _regularize_videos decodes them), saved before the area cap as media/frames/<stem>_<i>.png,
    with the sampled indices, the stream's declared frame count and duration."""
    import av
    container = av.open(path, "r")
    stream = next(s for s in container.streams if s.type == "video")
    indices = [int(i) for i in plugin._get_video_sample_indices(
        stream, video_fps=VIDEO["fps"], video_maxlen=VIDEO["maxlen"])]
    declared = {"frames": int(stream.frames),
                "seconds": None if stream.duration is None
                else float(stream.duration * stream.time_base)}
    container.seek(0)
    saved = []
    for index, frame in enumerate(container.decode(stream)):
        if index in indices:
            name = f"{Path(path).stem}_{index}.png"
            frame.to_image().save(frames_dir / name)
            saved.append("media/frames/" + name)
    container.close()
    # The same frames, capped, are what the plugin hands the image processor.
    capped = plugin._regularize_videos([path], image_resolution=VIDEO["max_pixels"],
                                       video_fps=VIDEO["fps"], video_maxlen=VIDEO["maxlen"])[0]
    assert len(capped) == len(saved)
    for frame_path, frame in zip(saved, capped):
        mine = plugin._preprocess_image(Image.open(frames_dir.parent.parent / frame_path),
                                        image_resolution=VIDEO["max_pixels"])
        assert np.array_equal(np.asarray(mine), np.asarray(frame)), frame_path
    return indices, declared, saved


# ---------------------------------------------------------------------------------------------
# Running one sequence (prompt + one response) through the reference.

def run_sequence(ref, model, v_head, processor, tokenizer, system, messages, images, videos,
                 audios, captured):
    plugin = ref.template.mm_plugin
    rendered = plugin.process_messages(messages, images, videos, audios, processor)
    prompt_ids, response_ids = ref.template.encode_oneturn(tokenizer, rendered, system, None)
    input_ids = prompt_ids + response_ids
    mm = plugin.get_mm_inputs(images, videos, audios, [len(images)], [len(videos)], [len(audios)],
                              [input_ids], processor)
    ids = torch.tensor([input_ids])
    data = dict(mm)
    data["input_ids"] = ids
    data["attention_mask"] = torch.ones_like(ids)
    data["position_ids"] = torch.arange(ids.size(1)).long().unsqueeze(0)
    captured.clear()
    with torch.no_grad():
        out = model(data=data, input_ids=ids, output_hidden_states=True, return_dict=True,
                    use_cache=False)
        hidden = out.hidden_states[-1]
        values = v_head(hidden).squeeze(-1)
    last = ids.size(1) - 1
    result = {"input_ids": input_ids, "prompt_length": len(prompt_ids),
              "reward": float(values[0, last]), "hidden": hidden[0, last].clone(),
              "rendered": [m["content"] for m in rendered]}
    if images:
        # The reference's own slice grid of each image ([cols, rows]; [0, 0]: not sliced).
        sizes = [plugin._preprocess_image(Image.open(p), image_resolution=processor.image_resolution)
                 .size for p in images]
        result["grids"] = [list(processor.image_processor.get_sliced_grid(
            size, processor.image_processor.max_slice_nums) or [0, 0]) for size in sizes]
    if videos:
        # Each frame's grid as the plugin lays it out (max_slice_nums 2, from the capped size).
        result["video_grids"] = [[list(processor.image_processor.get_sliced_grid(
            (int(w), int(h)), 2) or [0, 0]) for w, h in mm["image_sizes"][0]]]
    if images or videos:
        tgt = mm["tgt_sizes"][0]
        result["tgt_sizes"] = [[int(h), int(w)] for h, w in tgt.tolist()]
        result["image_sizes"] = [[int(w), int(h)] for w, h in mm["image_sizes"][0]]
        slices = []
        for flat, (h, w) in zip(mm["pixel_values"][0], result["tgt_sizes"]):
            # [3, 14, h*w*14] patch rows → [3, 14h, 14w]
            patches = flat.reshape(3, 14, h * w, 14).permute(0, 2, 1, 3)
            slices.append(patches.reshape(3, h, w, 14, 14).permute(0, 1, 3, 2, 4)
                          .reshape(3, h * 14, w * 14).clone())
        result["pixels"] = slices
        vpm = captured["vpm"]
        result["siglip"] = [vpm[i, : h * w].clone() for i, (h, w) in enumerate(result["tgt_sizes"])]
        result["resampler"] = captured["resampler"].clone()
    if audios:
        result["audio_samples"] = [int(len(librosa.load(p, sr=16000)[0])) for p in audios]
        result["audio_mel"] = [f[:, : int(n)].clone() for f, n in
                               zip(mm["audio_features"], torch.hstack(mm["audio_feature_lens"]))]
        result["audio_embeds"] = [e.clone() for e in captured["audio"][0]]
    return result


def install_hooks(model, captured):
    model.vpm.register_forward_hook(
        lambda m, i, o: captured.__setitem__("vpm", o.last_hidden_state.detach()))
    model.resampler.register_forward_hook(
        lambda m, i, o: captured.__setitem__("resampler", o.detach()))
    original = model.get_audio_embedding

    def audio(data, chunk_length=-1, dummy=True):
        embeds = original(data, chunk_length, dummy)
        captured["audio"] = embeds
        return embeds
    model.get_audio_embedding = audio


# ---------------------------------------------------------------------------------------------
# The cases.

def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


def record(case_id, task, criteria, prompt_parts, chosen_parts, rejected_parts, turns=None):
    """The omnirm pair record of a case (media paths relative to the fixture directory)."""
    def content(parts):
        return [{"type": "text", "text": p} if isinstance(p, str) else p for p in parts]
    prompt = turns if turns is not None else [{"role": "user", "content": content(prompt_parts)}]
    return {"id": case_id, "task": task, "criteria": criteria, "prompt": prompt,
            "chosen": {"content": content(chosen_parts)},
            "rejected": {"content": content(rejected_parts)}}


def make_cases(media, generator):
    img = lambda name: {"type": "image", "path": "media/" + name}  # noqa: E731
    aud = lambda name: {"type": "audio", "path": "media/" + name}  # noqa: E731
    vid = lambda name: {"type": "video", "path": "media/" + name}  # noqa: E731
    part = {"image": img, "audio": aud, "video": vid}
    files = {}
    for name, (w, h) in {"square.png": (56, 56), "wide.png": (168, 56), "tall.png": (56, 168),
                         "tiny.png": (20, 10), "large.png": (1100, 780), "pair_a.png": (84, 70),
                         "pair_b.png": (60, 90), "t2i_a.png": (96, 64), "t2i_b.png": (64, 96),
                         "edit_src.png": (70, 56), "edit_a.png": (70, 56),
                         "edit_b.png": (70, 56)}.items():
        files[name] = block_image(media / name, w, h, generator, 8 if w * h > 768 * 768 else 4)
    # What the plugin's area cap (nearest) makes of the large image, for the resize test.
    from PIL import Image as PILImage
    large = PILImage.open(files["large.png"])
    factor = math.sqrt(768 * 768 / (large.width * large.height))
    large.resize((int(large.width * factor), int(large.height * factor)),
                 resample=PILImage.Resampling.NEAREST).save(media / "large_capped.png")
    for name, seconds in {"clip3.flac": 3.0, "clip45.flac": 45.0, "t2a_a.flac": 2.5,
                          "t2a_b.flac": 4.2}.items():
        files[name] = tone_clip(media / name, seconds, generator)
    # Videos (drawn after every other medium, so the earlier cases stay as they were):
    #   clip_rgb.mp4  96 x 64 (above the frame cap), 16 frames at 5 fps: 3.2 s → 4 frames at
    #                 linspace(0, 15, 4) = 0, 5, 10, 15; H.264 4:4:4 RGB, lossless;
    #   t2v_a.mp4     40 x 48, 7 frames at 4 fps: 1.75 s → 3 frames, 0, 3, 6; lossless RGB;
    #   t2v_b.mkv     48 x 40, 9 frames at 3 fps, FFV1 RGB in Matroska, which declares no frame
    #                 count: the plugin then takes frames 0 .. video_maxlen − 1;
    #   clip_yuv.mp4  64 x 48, 10 frames at 4 fps, H.264 4:2:0 (what real videos are): 2.5 s →
    #                 4 frames at 0, 3, 6, 9; its RGB frames are PyAV's conversion's.
    lossless = {"qp": "0", "preset": "veryfast"}
    files["clip_rgb.mp4"] = block_video(media / "clip_rgb.mp4", 96, 64, 16, 5, "libx264rgb",
                                        "rgb24", generator, lossless, block=8)
    files["t2v_a.mp4"] = block_video(media / "t2v_a.mp4", 40, 48, 7, 4, "libx264rgb", "rgb24",
                                     generator, lossless)
    files["t2v_b.mkv"] = block_video(media / "t2v_b.mkv", 48, 40, 9, 3, "ffv1", "bgr0",
                                     generator)
    files["clip_yuv.mp4"] = block_video(media / "clip_yuv.mp4", 64, 48, 10, 4, "libx264",
                                        "yuv420p", generator, {"crf": "20", "preset": "veryfast"})
    f = lambda name: files[name]  # noqa: E731
    crit = "Prefer the response that is concise and accurate."
    cases = []

    def add(case_id, task, criteria, prompt_text, chosen, rejected, prompt_media=(),
            chosen_media=(), rejected_media=(), kind="image", prompt_parts=None, turns=None,
            lf_prompt=None):
        cases.append(dict(
            id=case_id, criteria=criteria, kind=kind,
            lf_prompt=lf_prompt or [user(prompt_text)],
            chosen=chosen, rejected=rejected, prompt_media=[f(m) for m in prompt_media],
            chosen_media=[f(m) for m in chosen_media],
            rejected_media=[f(m) for m in rejected_media],
            record=record(case_id, task, criteria, prompt_parts or [prompt_text],
                          [part[kind](chosen_media[0])] if chosen_media else [chosen],
                          [part[kind](rejected_media[0])] if rejected_media else [rejected],
                          turns=turns)))

    add("t2t_no_criteria", "t2t", "", "Which answer is better?", "A cat sits on the mat.",
        "The picture shows a red cube.")
    add("t2t_criteria", "t2t", crit, "Which answer is better?", "A cat sits on the mat.",
        "The picture shows a red cube.")
    turns = [{"role": "user", "content": [{"type": "text", "text": "Describe the image."}]},
             {"role": "assistant", "content": [{"type": "text", "text": "A red cube."}]},
             {"role": "user", "content": [{"type": "text", "text": "Which answer is better?"}]}]
    add("multi_turn", "t2t", crit, None, "A cat sits on the mat.", "A green sphere.",
        turns=turns, lf_prompt=[user("Describe the image."), assistant("A red cube."),
                                user("Which answer is better?")])
    for case_id, name in [("image_square", "square.png"), ("image_wide", "wide.png"),
                          ("image_tall", "tall.png"), ("image_tiny", "tiny.png"),
                          ("image_nine_slices", "large.png")]:
        add(case_id, "ti2t", crit, "<image>Describe the image in detail.",
            "A red cube on a blue table.", "A cat sits on the mat.", prompt_media=[name],
            prompt_parts=[img(name), "Describe the image in detail."])
    add("image_two", "ti2t", crit, "Which picture shows a cat? <image> or <image>",
        "The first one.", "The second one.", prompt_media=["pair_a.png", "pair_b.png"],
        prompt_parts=["Which picture shows a cat? ", img("pair_a.png"), " or ",
                      img("pair_b.png")])
    add("t2i", "t2i", "Prefer the image whose colours match the prompt.",
        "A red cube on a blue table.", "<image>", "<image>", chosen_media=["t2i_a.png"],
        rejected_media=["t2i_b.png"])
    add("ti2i", "ti2i", crit, "<image>Edit the photo so that the sky is orange.", "<image>",
        "<image>", prompt_media=["edit_src.png"], chosen_media=["edit_a.png"],
        rejected_media=["edit_b.png"],
        prompt_parts=[img("edit_src.png"), "Edit the photo so that the sky is orange."])
    for case_id, name in [("audio_3s", "clip3.flac"), ("audio_45s", "clip45.flac")]:
        add(case_id, "ta2t", crit, "<audio>Listen to the clip and say what you hear.",
            "A bird sings.", "A car passes.", prompt_media=[name], kind="audio",
            prompt_parts=[aud(name), "Listen to the clip and say what you hear."])
    add("t2a", "t2a", crit, "Generate a short melody played on a piano.", "<audio>",
        "<audio>", chosen_media=["t2a_a.flac"], rejected_media=["t2a_b.flac"], kind="audio")
    for case_id, name in [("video_prompt", "clip_rgb.mp4"), ("video_prompt_yuv", "clip_yuv.mp4")]:
        add(case_id, "tv2t", crit, "<video>Describe the video.", "A red cube on a blue table.",
            "A cat sits on the mat.", prompt_media=[name], kind="video",
            prompt_parts=[vid(name), "Describe the video."])
    add("t2v", "t2v", "Prefer the video whose colours match the prompt.",
        "A red cube on a blue table.", "<video>", "<video>", chosen_media=["t2v_a.mp4"],
        rejected_media=["t2v_b.mkv"], kind="video")
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minicpmo", required=True, help="MiniCPM-o-2.6 model repository files")
    parser.add_argument("--factory", required=True, help="OmniReward-Factory checkout")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent /
                                              "tests/fixtures/minicpmo"))
    args = parser.parse_args()
    out = Path(args.out)
    (out / "media").mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    ref = import_reference(args.minicpmo, args.factory)
    tokenizer = make_tokenizer(out, ref)
    processor = make_processor(ref, tokenizer)
    model, v_head = make_model(ref, tokenizer, generator, out)
    captured = {}
    install_hooks(model, captured)

    tensors, summary = {}, {}
    frames_dir = out / "media" / "frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    cases = make_cases(out / "media", generator)
    with open(out / "pairs.jsonl", "w") as pairs:
        for case in cases:
            pairs.write(json.dumps(case["record"]) + "\n")
            entry = {}
            for side in ("chosen", "rejected"):
                messages = case["lf_prompt"] + [assistant(case[side])]
                media = case["prompt_media"] + case[side + "_media"]
                images = media if case["kind"] == "image" else []
                videos = media if case["kind"] == "video" else []
                audios = media if case["kind"] == "audio" else []
                r = run_sequence(ref, model, v_head, processor, tokenizer, case["criteria"],
                                 messages, images, videos, audios, captured)
                if videos:
                    sampled = [reference_frames(ref.template.mm_plugin, v, frames_dir)
                               for v in videos]
                    r["video_frames"] = [indices for indices, _, _ in sampled]
                    r["video_declared"] = [declared for _, declared, _ in sampled]
                    r["video_frame_files"] = [saved for _, _, saved in sampled]
                    r["frames_exact"] = all(Path(v).stem != "clip_yuv" for v in videos)
                key = f"{case['id']}/{side}"
                tensors[key + "/hidden"] = r.pop("hidden")
                # Mel features are kept for short clips only (a 45 s clip's would weigh 1.4 MB;
                # its embeddings, which depend on them, are kept).
                r["audio_mel"] = [m for m in r.get("audio_mel", []) if m.shape[1] <= 1000]
                for i, t in enumerate(r.pop("pixels", [])):
                    tensors[f"{key}/pixels/{i}"] = t
                for i, t in enumerate(r.pop("siglip", [])):
                    tensors[f"{key}/siglip/{i}"] = t
                # Resampler outputs of the first and last slice (the reward covers the rest).
                resampled = r.pop("resampler", [])
                for i, t in enumerate(resampled):
                    if i in (0, len(resampled) - 1):
                        tensors[f"{key}/resampler/{i}"] = t
                for i, t in enumerate(r.pop("audio_mel", [])):
                    tensors[f"{key}/audio_mel/{i}"] = t
                for i, t in enumerate(r.pop("audio_embeds", [])):
                    tensors[f"{key}/audio_embeds/{i}"] = t
                entry[side] = r
            summary[case["id"]] = entry
    # The rejected side repeats the prompt's media tensors: keep them once (under chosen).
    for key in list(tensors):
        if "/rejected/" in key and "/hidden" not in key:
            twin = key.replace("/rejected/", "/chosen/")
            if twin in tensors and torch.equal(tensors[twin], tensors[key]):
                del tensors[key]
    from safetensors.torch import save_file
    save_file({k: v.contiguous().float() for k, v in tensors.items()},
              str(out / "reference.safetensors"))
    import PIL
    import av
    import transformers
    meta = {"seed": SEED, "torch": torch.__version__, "transformers": transformers.__version__,
            "pillow": PIL.__version__, "llm": LLM, "vision": VISION, "audio": AUDIO,
            "slice": SLICE, "video": VIDEO, "query_num": 64, "av": av.__version__}
    (out / "reference.json").write_text(json.dumps({"meta": meta, "cases": summary}, indent=1)
                                        + "\n")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {len(cases)} cases, {total} bytes, to {out}")


if __name__ == "__main__":
    main()
