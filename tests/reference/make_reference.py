#!/usr/bin/env python3
"""Independent numpy reference values for unmask-metrics (SSIM, LPIPS v0.1, L1, PSNR).

Makes deterministic image pairs (64x80 RGB, 8-bit), writes them as PNGs and the metric
values computed from the 8-bit images into fixtures/reference.json.

    pip install numpy            # scikit-image optional: cross-checks SSIM when present
    UNMASK_CACHE=/path/to/cache python3 tests/reference/make_reference.py

The LPIPS weights are read from $UNMASK_CACHE/weights/{alexnet,vgg16}_lpips.safetensors
(produced by the unmask-weights crate); the safetensors file is parsed here by hand (JSON
header + little-endian f32 bytes), no torch. Everything is computed in float64.
"""
import json
import os
import struct
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
H, W = 64, 80


# ---------------------------------------------------------------- images and PNG I/O
def write_png(path, img_u8):
    h, w, c = img_u8.shape
    assert c == 3 and img_u8.dtype == np.uint8
    raw = b"".join(b"\x00" + img_u8[y].tobytes() for y in range(h))

    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9))
    png += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def to_u8(x):
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def smooth_image():
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    r = 0.5 + 0.35 * np.sin(x / 9.0) * np.cos(y / 13.0)
    g = 0.25 + 0.5 * (x / W) * (y / H) + 0.1 * np.sin((x + y) / 7.0)
    b = 0.6 - 0.3 * np.exp(-((x - 50) ** 2 + (y - 30) ** 2) / 200.0)
    disc = ((x - 25) ** 2 + (y - 40) ** 2) < 12 ** 2
    r = np.where(disc, 0.9, r)
    g = np.where(disc, 0.2, g)
    return np.clip(np.stack([r, g, b], -1), 0, 1)


def other_image():
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    r = 0.3 + 0.3 * np.cos(x / 5.0 + y / 17.0)
    g = 0.7 - 0.4 * ((x // 10 + y // 10) % 2)  # checkerboard
    b = 0.5 + 0.4 * np.sin(np.hypot(x - 40, y - 32) / 4.0)
    return np.clip(np.stack([r, g, b], -1), 0, 1)


def box_blur(img, k=5):
    p = k // 2
    padded = np.pad(img, ((p, p), (p, p), (0, 0)), mode="reflect")
    out = np.zeros_like(img)
    for dy in range(k):
        for dx in range(k):
            out += padded[dy:dy + H, dx:dx + W]
    return out / (k * k)


def shift(img, d=3):
    out = np.empty_like(img)
    out[:, d:] = img[:, :-d]
    out[:, :d] = img[:, :1]  # replicate the left edge
    return out


# ---------------------------------------------------------------- SSIM (Wang et al. 2004, skimage)
def gaussian_kernel1d(sigma=1.5, truncate=3.5):
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 / sigma ** 2 * x ** 2)
    return k / k.sum()


def gaussian_filter_reflect(img, k):
    """scipy.ndimage.gaussian_filter(mode='reflect') for a 2-D float64 array."""
    r = len(k) // 2
    # scipy 'reflect' = half-sample symmetric = numpy 'symmetric'
    p = np.pad(img, ((r, r), (0, 0)), mode="symmetric")
    img = sum(k[i] * p[i:i + img.shape[0]] for i in range(len(k)))
    p = np.pad(img, ((0, 0), (r, r)), mode="symmetric")
    return sum(k[i] * p[:, i:i + img.shape[1]] for i in range(len(k)))


def ssim_channel(x, y, data_range=1.0):
    k = gaussian_kernel1d()
    win = len(k)
    f = lambda a: gaussian_filter_reflect(a, k)
    ux, uy = f(x), f(y)
    uxx, uyy, uxy = f(x * x), f(y * y), f(x * y)
    vx, vy, vxy = uxx - ux * ux, uyy - uy * uy, uxy - ux * uy  # cov_norm = 1
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    pad = (win - 1) // 2
    return s[pad:-pad, pad:-pad].mean()


def ssim(a, b):
    return float(np.mean([ssim_channel(a[..., c], b[..., c]) for c in range(3)]))


# ---------------------------------------------------------------- LPIPS v0.1
def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", (name, meta["dtype"])
        s, e = meta["data_offsets"]
        out[name] = np.frombuffer(data[s:e], dtype="<f4").astype(np.float64).reshape(meta["shape"])
    return out


def conv2d(x, w, b, stride=1, pad=0):
    """x [C,H,W], w [O,C,kh,kw] -> [O,H',W'] (cross-correlation, zero padding)."""
    c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (wd + 2 * pad - kw) // stride + 1
    cols = np.empty((c, kh, kw, ho, wo))
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = xp[:, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride]
    out = w.reshape(o, -1) @ cols.reshape(c * kh * kw, ho * wo)
    return out.reshape(o, ho, wo) + b[:, None, None]


def maxpool(x, k, s):
    c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    out = np.full((c, ho, wo), -np.inf)
    for i in range(k):
        for j in range(k):
            out = np.maximum(out, x[:, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s])
    return out


relu = lambda x: np.maximum(x, 0)


def alex_features(x, p):
    c = lambda i, x, s, pd: relu(conv2d(x, p[f"AlexNet_0.Conv_{i}.kernel"], p[f"AlexNet_0.Conv_{i}.bias"], s, pd))
    f1 = c(0, x, 4, 2)
    f2 = c(1, maxpool(f1, 3, 2), 1, 2)
    f3 = c(2, maxpool(f2, 3, 2), 1, 1)
    f4 = c(3, f3, 1, 1)
    f5 = c(4, f4, 1, 1)
    return [f1, f2, f3, f4, f5]


def vgg_features(x, p):
    blocks = [2, 2, 3, 3, 3]
    feats, i = [], 0
    for bi, n in enumerate(blocks):
        if bi > 0:
            x = maxpool(x, 2, 2)
        for _ in range(n):
            x = relu(conv2d(x, p[f"VGG16_0.Conv_{i}.kernel"], p[f"VGG16_0.Conv_{i}.bias"], 1, 1))
            i += 1
        feats.append(x)
    return feats


SHIFT = np.array([-0.030, -0.088, -0.188])
SCALE = np.array([0.458, 0.448, 0.450])


def lpips(a, b, p, feats_fn):
    def prep(img):  # HWC [0,1] -> CHW scaled
        x = img.transpose(2, 0, 1) * 2.0 - 1.0
        return (x - SHIFT[:, None, None]) / SCALE[:, None, None]

    fa, fb = feats_fn(prep(a), p), feats_fn(prep(b), p)
    total = 0.0
    for k, (x, y) in enumerate(zip(fa, fb)):
        nx = x / (np.sqrt((x ** 2).sum(0, keepdims=True)) + 1e-10)
        ny = y / (np.sqrt((y ** 2).sum(0, keepdims=True)) + 1e-10)
        w = p[f"NetLinLayer_{k}.Conv_0.kernel"].reshape(-1)
        total += float(np.tensordot(w, (nx - ny) ** 2, axes=1).mean())
    return total


# ---------------------------------------------------------------- main
def main():
    cache = os.environ.get("UNMASK_CACHE")
    if not cache:
        sys.exit("set UNMASK_CACHE to the unmask-weights cache folder (it holds weights/*.safetensors)")
    alex = read_safetensors(os.path.join(cache, "weights", "alexnet_lpips.safetensors"))
    vgg = read_safetensors(os.path.join(cache, "weights", "vgg16_lpips.safetensors"))

    base = smooth_image()
    rng_low = np.random.default_rng(1234)
    rng_high = np.random.default_rng(5678)
    images = {
        "base": base,
        "other": other_image(),
        "noise_low": np.clip(base + rng_low.normal(0, 0.03, base.shape), 0, 1),
        "noise_high": np.clip(base + rng_high.normal(0, 0.10, base.shape), 0, 1),
        "blur": box_blur(base),
        "shift": shift(base),
    }
    os.makedirs(FIXTURES, exist_ok=True)
    u8 = {}
    for name, img in images.items():
        u8[name] = to_u8(img)
        write_png(os.path.join(FIXTURES, f"{name}.png"), u8[name])
    f = {k: v.astype(np.float64) / 255.0 for k, v in u8.items()}

    pairs = [("base", "base"), ("base", "noise_low"), ("base", "noise_high"), ("base", "blur"),
             ("base", "shift"), ("base", "other"), ("noise_high", "other")]
    try:
        from skimage.metrics import structural_similarity as sk_ssim
    except ImportError:
        sk_ssim = None

    rows = []
    for a, b in pairs:
        x, y = f[a], f[b]
        mse = float(((x - y) ** 2).mean())
        row = {
            "a": f"{a}.png",
            "b": f"{b}.png",
            "l1": float(np.abs(x - y).mean()),
            "psnr": float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse)),
            "ssim": ssim(x, y),
            "lpips_alex": lpips(x, y, alex, alex_features),
            "lpips_vgg": lpips(x, y, vgg, vgg_features),
        }
        if sk_ssim is not None:
            ref = sk_ssim(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                          data_range=1.0, channel_axis=2)
            assert abs(ref - row["ssim"]) < 1e-10, (a, b, ref, row["ssim"])
            row["ssim_skimage"] = float(ref)
        if row["psnr"] == float("inf"):
            row["psnr"] = None
        rows.append(row)
        print(f"{a:>10} vs {b:<10} ssim {row['ssim']:.6f}  lpips_alex {row['lpips_alex']:.6f}  "
              f"lpips_vgg {row['lpips_vgg']:.6f}  psnr {row['psnr']}")

    out = {
        "generator": "tests/reference/make_reference.py",
        "note": "values computed in float64 from the 8-bit PNGs (pixel / 255); psnr null = identical",
        "skimage_checked": sk_ssim is not None,
        "pairs": rows,
    }
    with open(os.path.join(FIXTURES, "reference.json"), "w") as fh:
        json.dump(out, fh, indent=2)
        fh.write("\n")


if __name__ == "__main__":
    main()
