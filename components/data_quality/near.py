"""Near duplicates confirmed pixel by pixel: copies re-encoded, resized or cropped by a few percent.
Pure functions, no Beam.

The candidates come from embedding neighbours (neighbours.py). Embeddings of unrelated but alike
pictures (two plain T-shirts on white) are often as close as a copy's, so each candidate pair is
compared pixel by pixel on the luminance thumbnails ExampleGen stored: both brought to the smaller
one's size, blurred slightly, normalised for brightness and contrast, and aligned on the crop (up
to CROP of each axis, in either direction) that fits best. The pair is a near duplicate when the
98th percentile of the absolute difference, in standard deviations, is at most
`near_duplicate_difference`: copies stay well under it everywhere, look-alikes differ clearly
somewhere (a logo, a stripe, a collar).
"""
from __future__ import annotations

import functools
from typing import List, Tuple

import numpy as np

CROP = 0.05  # the largest crop, per axis, the confirmation aligns on
CROP_STEPS = 4  # grid steps of CROP / CROP_STEPS per side
BLUR_SIGMA = 1.0  # pixels at the compared size
PERCENTILE = 98


def thumbnail_array(thumbnail: bytes) -> np.ndarray:
    side = int(round(len(thumbnail) ** 0.5))
    if side * side != len(thumbnail) or side == 0:
        raise ValueError(f"a luminance thumbnail of {len(thumbnail)} bytes is not square")
    return np.frombuffer(thumbnail, np.uint8).reshape(side, side)


@functools.lru_cache(maxsize=4096)
def _crop_matrix(side: int, first: int, last: int) -> np.ndarray:
    """[side, side] linear resampling that takes the crop of an axis cutting `first` and `last`
    steps (of CROP / CROP_STEPS) off its two ends back to `side` samples."""
    step = CROP / CROP_STEPS * side
    lo, hi = first * step, side - last * step
    centres = np.clip(lo + (np.arange(side) + 0.5) * (hi - lo) / side - 0.5, 0, side - 1)
    left = np.floor(centres).astype(int)
    right = np.minimum(left + 1, side - 1)
    weight = (centres - left).astype(np.float32)
    matrix = np.zeros((side, side), np.float32)
    np.add.at(matrix, (np.arange(side), left), 1 - weight)
    np.add.at(matrix, (np.arange(side), right), weight)
    return matrix


def _cuts(stride: int = 1, around: Tuple[int, int] = None) -> List[Tuple[int, int]]:
    """The (first, last) cuts of one axis, at most CROP_STEPS together: every `stride`-th, or the
    neighbours of `around`."""
    cuts = [(f, l) for f in range(CROP_STEPS + 1) for l in range(CROP_STEPS + 1 - f)]
    if around is None:
        return [(f, l) for f, l in cuts if f % stride == 0 and l % stride == 0]
    return [(f, l) for f, l in cuts if abs(f - around[0]) <= 1 and abs(l - around[1]) <= 1]


def _standardise(images: np.ndarray) -> np.ndarray:
    flat = images.reshape(images.shape[0], -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    return flat / (flat.std(axis=1, keepdims=True) + 1e-3)


def difference(a: np.ndarray, b: np.ndarray, give_up_above: float = np.inf) -> float:
    """How far apart two luminance thumbnails are, after the best crop alignment: the 98th
    percentile of the absolute difference, in standard deviations (0 for the same picture).

    The crops are searched on a grid of CROP / 2 steps first, then around the best of it; when the
    grid's best is above `give_up_above`, that is returned without the finer search (which lowers
    the difference by a fraction, never from far above the threshold to under it)."""
    from PIL import Image
    from scipy.ndimage import gaussian_filter

    side = min(a.shape[0], b.shape[0])

    def prepared(image):
        if image.shape[0] != side:
            image = np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BILINEAR))
        return gaussian_filter(image.astype(np.float32), BLUR_SIGMA)

    a, b = prepared(a), prepared(b)
    rank = int(np.ceil(PERCENTILE / 100 * side * side)) - 1

    def gaps(whole, part, rows, columns):
        """The difference of standardised `part` to each crop (rows x columns) of `whole`, and the best."""
        left = np.stack([_crop_matrix(side, *r) for r in rows]) @ whole
        right = np.stack([_crop_matrix(side, *c).T for c in columns])
        crops = (left[:, None] @ right[None]).reshape(-1, side * side)
        found = np.partition(np.abs(_standardise(crops) - part), rank, axis=1)[:, rank]
        best = int(found.argmin())
        return float(found[best]), rows[best // len(columns)], columns[best % len(columns)]

    best = np.inf
    # `b` may be a crop of `a`, or `a` of `b`: the coarse grid, then its best's neighbours
    for whole, part in ((a, _standardise(b[None])), (b, _standardise(a[None]))):
        found, row, column = gaps(whole, part, _cuts(2), _cuts(2))
        best = min(best, found)
        if found <= give_up_above:
            best = min(best, gaps(whole, part, _cuts(around=row), _cuts(around=column))[0])
    return best
