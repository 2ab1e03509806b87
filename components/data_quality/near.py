"""Near duplicates: copies re-encoded, resized or cropped by a few percent. Pure functions, no Beam.

Two stages, so the work grows with the number of images, not with its square:

1. Candidates. Each image's 64-bit pHash is cut into BANDS bands; images meet only those that
   share a band value with their pHash or with one of their nine 5% crop hashes (a cropped copy
   is a few bits from the original's crop hash of the same corner, where it can be 25 bits from
   the original's own hash). A pair met this way stays a candidate when its closest hashes are at
   most `near_duplicate_bits` apart.
2. Confirmation. Perceptual hashes of unrelated but alike pictures (two plain T-shirts on white)
   are often as close as a copy's, so each candidate pair is compared pixel by pixel on the
   luminance thumbnails ExampleGen stored: both brought to the smaller one's size, blurred
   slightly, normalised for brightness and contrast, and aligned on the crop (up to CROP of each
   axis, in either direction) that fits best. The pair is a near duplicate when the 98th
   percentile of the absolute difference, in standard deviations, is at most
   `near_duplicate_difference`: copies stay well under it everywhere, look-alikes differ clearly
   somewhere (a logo, a stripe, a collar).
"""
from __future__ import annotations

import functools
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

BANDS = 4
BAND_BITS = 64 // BANDS
CROP = 0.05  # the largest crop, per axis, the confirmation aligns on
CROP_STEPS = 4  # grid steps of CROP / CROP_STEPS per side
BLUR_SIGMA = 1.0  # pixels at the compared size
PERCENTILE = 98
PER_IMAGE = 4  # closest candidates each image keeps in each band bucket
PER_IMAGE_IN_ALL = 8  # closest candidates each image keeps over all its buckets: what is confirmed


def unsigned(value: int) -> int:
    return value & ((1 << 64) - 1)


def band_keys(main: int, crops: Sequence[int]) -> List[Tuple[int, int, bool]]:
    """(band, value, from the image's own hash) for the image's pHash and its crop hashes; a band
    value that both give is keyed once, as its own."""
    keys: Dict[Tuple[int, int], bool] = {}
    for is_main, value in [(True, unsigned(main))] + [(False, unsigned(c)) for c in crops]:
        for band in range(BANDS):
            key = (band, (value >> (band * BAND_BITS)) & ((1 << BAND_BITS) - 1))
            keys[key] = keys.get(key, False) or is_main
    return [(band, value, is_main) for (band, value), is_main in sorted(keys.items())]


def _popcount(x: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (SWAR)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def hash_distances(mains: np.ndarray, crops: np.ndarray) -> np.ndarray:
    """[n, n] bits between each image's pHash and the other's pHash or crop hashes, the fewest.

    `mains` is uint64 [n], `crops` uint64 [n, 9]."""
    direct = _popcount(mains[:, None] ^ mains[None, :])
    # crop hash of the row image against the column image's own hash, and the other way round
    cropped = _popcount(crops[:, None, :] ^ mains[None, :, None]).min(axis=2)
    return np.minimum(direct, np.minimum(cropped, cropped.T))


def candidate_pairs(
    members: Iterable[Tuple[str, bool, int, Sequence[int]]], max_bits: int, per_image: int = PER_IMAGE
) -> List[Tuple[str, str, int]]:
    """(path, path, bits) for the pairs of one band bucket within max_bits, the paths in order.

    A member is (path, met by its own hash, pHash, crop hashes); a pair needs one member met by
    its own hash (two crop hashes sharing a band say nothing). Each image keeps its `per_image`
    closest partners in the bucket, so a crowd of look-alikes costs per image, not per pair."""
    by_path: Dict[str, Tuple[bool, int, Sequence[int]]] = {}
    for path, is_main, main, crops in members:
        seen = by_path.get(path)
        by_path[path] = (bool(seen and seen[0]) or is_main, main, crops)
    if len(by_path) < 2:
        return []
    paths = sorted(by_path)
    own = np.array([by_path[p][0] for p in paths])
    mains = np.array([unsigned(by_path[p][1]) for p in paths], np.uint64)
    crops = np.array([[unsigned(c) for c in by_path[p][2]] for p in paths], np.uint64).reshape(len(paths), -1)
    bits = hash_distances(mains, crops)
    np.fill_diagonal(bits, max_bits + 1)
    bits[~(own[:, None] | own[None, :])] = max_bits + 1
    if len(paths) > per_image:  # ties broken by path order, so the same pairs every run
        nearest = np.argsort(bits, axis=1, kind="stable")[:, :per_image]
        kept = np.zeros_like(bits, bool)
        np.put_along_axis(kept, nearest, True, axis=1)
        bits[~(kept | kept.T)] = max_bits + 1
    close = (bits <= max_bits) & np.triu(np.ones_like(bits, bool), 1)
    return [(paths[i], paths[j], int(bits[i, j])) for i, j in zip(*np.nonzero(close))]


def closest_partners(partners: Iterable[Tuple[str, int]], keep: int = PER_IMAGE_IN_ALL) -> List[Tuple[str, int]]:
    """The `keep` (path, bits) with the fewest bits, ties by path: an image's candidates over all
    its buckets, so that the pixel comparisons per image are bounded however alike the folder is."""
    return sorted(set(partners), key=lambda partner: (partner[1], partner[0]))[:keep]


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
