"""Per-image fingerprints and measures, computed where ExampleGen decodes each file anyway.

* `pixel_hash`: SHA-256 of the decoded RGB pixels and their shape (first 16 bytes, hex). The same
  picture saved again losslessly, renamed or copied has the same hash; its file bytes need not.
* `perceptual_hash`: a 64-bit DCT hash (pHash) of a 32 x 32 grayscale version: the signs of the
  8 x 8 lowest frequencies against their median. Resized, re-compressed and slightly cropped or
  edited copies land a few bits apart; unrelated images about 32 apart.
* `crop_hashes`: the pHashes of nine 5% crops (at each corner, each edge's middle and the
  centre), so that a copy cropped by a few percent meets a hash of the original within a few bits.
* `thumbnail`: the luminance at `THUMBNAIL_SIDE` x `THUMBNAIL_SIDE` (or the image's shorter side, when
  smaller), the pixels the DataQuality step compares to confirm a near duplicate.
* `brightness`, `contrast`: mean and standard deviation of the luminance, in [0, 1].
* `sharpness`: variance of the Laplacian of the luminance (in 8-bit units); low means blurry or flat.

All but the pixel hash are computed on the luminance scaled to at most 512 px a side, so they
compare across image sizes and cost little on large photos.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Tuple

import numpy as np

HASH_BITS = 64
THUMBNAIL_SIDE = 32
CROP = 0.05  # the share of each side the crop hashes leave out
_SHARPNESS_SIDE = 512  # pixels: all but the pixel hash are measured at most this large


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    pixel_hash: str
    perceptual_hash: int  # as a signed 64-bit integer, as a tf.Example int64 holds it
    crop_hashes: Tuple[int, ...]  # signed, as perceptual_hash
    thumbnail: bytes  # side x side 8-bit luminance, row by row
    brightness: float
    contrast: float
    sharpness: float


def _gray(rgb: np.ndarray):
    """The luminance as a PIL image (ITU-R 601, as PIL's "L" mode), reduced by a whole factor
    (box filter) to at most _SHARPNESS_SIDE a side."""
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(rgb[..., :3]))
    factor = -(-max(image.size) // _SHARPNESS_SIDE)
    if factor > 1:
        image = image.reduce(factor)
    return image.convert("L")


def _dct_rows(n: int = 32, keep: int = 8) -> np.ndarray:
    """The first `keep` rows of the orthonormal n-point DCT-II matrix."""
    k, i = np.arange(keep)[:, None], np.arange(n)[None, :]
    rows = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    rows[0] /= np.sqrt(2)
    return rows.astype(np.float32)


_DCT = _dct_rows()


def to_signed(bits: int) -> int:
    return bits - (1 << HASH_BITS) if bits >= 1 << (HASH_BITS - 1) else bits


def perceptual_hash(gray, box=None) -> int:
    """pHash of a luminance image (PIL), or of its `box` (left, upper, right, lower), as an
    unsigned 64-bit integer."""
    from PIL import Image

    small = np.asarray(gray.resize((32, 32), Image.Resampling.BILINEAR, box=box), np.float32)
    low = (_DCT @ small @ _DCT.T).ravel()  # the 8 x 8 lowest frequencies of the 2-D DCT
    median = np.median(low[1:])  # the DC term is the brightness, left out of the median
    bits = 0
    for bit in low > median:
        bits = (bits << 1) | int(bit)
    return bits


def crop_hashes(gray) -> Tuple[int, ...]:
    """Unsigned pHashes of the nine crops that leave out CROP of the width and of the height."""
    width, height = gray.size
    keep_w, keep_h = width * (1 - CROP), height * (1 - CROP)
    return tuple(
        perceptual_hash(gray, (x, y, x + keep_w, y + keep_h))
        for y in (0.0, (height - keep_h) / 2, height - keep_h)
        for x in (0.0, (width - keep_w) / 2, width - keep_w)
    )


def thumbnail(gray) -> bytes:
    """The luminance at THUMBNAIL_SIDE square, or at its shorter side when that is smaller."""
    from PIL import Image

    side = max(1, min(THUMBNAIL_SIDE, *gray.size))
    return gray.resize((side, side), Image.Resampling.BILINEAR).tobytes()


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian of a float32 luminance array."""
    if min(gray.shape) < 3:
        return 0.0
    laplacian = gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:] - 4 * gray[1:-1, 1:-1]
    return float(laplacian.var())


def fingerprint(rgb: np.ndarray) -> Fingerprint:
    """The fingerprint of one decoded uint8 [height, width, 3] image."""
    digest = hashlib.sha256(np.asarray(rgb.shape, np.int64).tobytes())
    digest.update(np.ascontiguousarray(rgb).data)
    gray = _gray(rgb)
    luminance = np.asarray(gray, np.float32)
    return Fingerprint(
        pixel_hash=digest.hexdigest()[:32],
        perceptual_hash=to_signed(perceptual_hash(gray)),
        crop_hashes=tuple(to_signed(h) for h in crop_hashes(gray)),
        thumbnail=thumbnail(gray),
        brightness=float(luminance.mean() / 255.0),
        contrast=float(luminance.std() / 255.0),
        sharpness=sharpness(luminance),
    )


def hamming(a: int, b: int) -> int:
    """Bits that differ between two 64-bit hashes (signed or not)."""
    return bin((a ^ b) & ((1 << HASH_BITS) - 1)).count("1")
