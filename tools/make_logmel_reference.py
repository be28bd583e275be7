#!/usr/bin/env python3
"""Writes tests/fixtures/media/logmel_reference.json: Whisper-style log-mel features of a fixed
test signal, computed with numpy alone, as an independent reference for the C++ version in
src/media/log_mel.cpp (compared by tests/unit/media/log_mel_test.cpp).

Run by hand (numpy is the only dependency):
    ~/.local/share/omnirm/venv/bin/python tools/make_logmel_reference.py

The recipe, written out from its definition:
  * signal: 1 s at 16 kHz, float32:
        0.5 sin(2 pi 440 t) + 0.25 sin(2 pi 2500 t) + 0.2 sin(2 pi (200 t + 2900 t^2))
    (the last term a linear chirp from 200 Hz to 6 kHz), set to zero from t = 0.9 s so that
    the dynamic-range clamp is exercised;
  * frames: the signal reflect-padded by 200 samples each side, 400-sample frames every 160
    samples, a periodic Hann window, the last frame dropped;
  * power spectrum from numpy.fft.rfft;
  * 80 Slaney-scale mel filters with Slaney area normalisation (librosa's defaults);
  * log10(max(mel, 1e-10)), floor at max - 8, then (x + 4) / 4.
"""
import json
import pathlib

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 80
SAVED_FRAMES = [0, 1, 2, 25, 50, 77, 89, 90, 98, 99]


def test_signal():
    t = np.arange(SAMPLE_RATE, dtype=np.float64) / SAMPLE_RATE
    x = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.25 * np.sin(2 * np.pi * 2500 * t) +
         0.2 * np.sin(2 * np.pi * (200 * t + 2900 * t * t)))
    x[t >= 0.9] = 0.0
    return x.astype(np.float32)


def hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    step = np.log(6.4) / 27.0
    linear = hz / (200.0 / 3.0)
    logarithmic = 15.0 + np.log(np.maximum(hz, 1e-300) / 1000.0) / step
    return np.where(hz >= 1000.0, logarithmic, linear)


def mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    step = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(step * (mel - 15.0)), mel * 200.0 / 3.0)


def mel_filters():
    bin_hz = np.fft.rfftfreq(N_FFT, d=1.0 / SAMPLE_RATE)
    edges = mel_to_hz(np.linspace(0.0, hz_to_mel(SAMPLE_RATE / 2.0), N_MELS + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bin_hz[None, :] - lower) / (centre - lower)
    falling = (upper - bin_hz[None, :]) / (upper - centre)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    return triangles * (2.0 / (upper - lower))


def log_mel(signal):
    padded = np.pad(signal.astype(np.float64), N_FFT // 2, mode="reflect")
    count = 1 + len(signal) // HOP
    frames = np.stack([padded[i * HOP:i * HOP + N_FFT] for i in range(count)])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    mel = mel_filters() @ power[:-1].T  # [n_mels, frames], last frame dropped
    logs = np.log10(np.maximum(mel, 1e-10))
    logs = np.maximum(logs, logs.max() - 8.0)
    return (logs + 4.0) / 4.0


def main():
    features = log_mel(test_signal())
    rounded = lambda values: [float(f"{v:.9g}") for v in values]
    fixture = {
        "generator": "tools/make_logmel_reference.py (numpy " + np.__version__ + ")",
        "sample_rate": SAMPLE_RATE,
        "n_fft": N_FFT,
        "hop_length": HOP,
        "n_mels": N_MELS,
        "num_samples": SAMPLE_RATE,
        "num_frames": int(features.shape[1]),
        "frames": {str(t): rounded(features[:, t]) for t in SAVED_FRAMES},
        "mel_row_means": rounded(features.mean(axis=1)),
        "frame_means": rounded(features.mean(axis=0)),
        "filterbank_row_sums": rounded(mel_filters().sum(axis=1)),
        "hz_to_mel": {str(hz): float(hz_to_mel(hz)) for hz in [0.0, 500.0, 1000.0, 4000.0, 8000.0]},
    }
    out = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/media/logmel_reference.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {out}: {features.shape[0]} mels x {features.shape[1]} frames, "
          f"range [{features.min():.4f}, {features.max():.4f}]")


if __name__ == "__main__":
    main()
