"""Each image's neighbours in embedding space, with work and memory per image that do not grow
with the folder. Pure numpy over the Embeddings artifact's shards (contracts/embeddings.py).

1. The space. The backbone's 1,280 features are centred and projected on their top DIMENSIONS
   principal components (two streaming passes over the shards: the covariance, then the
   projection), and scaled to unit length, so that a dot product is a cosine similarity.
   Beside them, each image's pixels: ExampleGen's luminance thumbnail at PIXEL_SIDE square, mean
   0, unit length. A re-encoded or resized copy is pixel-near its original even when the
   network sees its compression artefacts as texture; a cropped one is near in what it shows.
2. Cells. The vectors are clustered (k-means on an evenly spaced sample) into about one cell per
   CELL_IMAGES images. Each image is a member of its PROBES nearest cells and looks for neighbours
   only among the members of its nearest one: a near copy is all but certain to share one of its
   original's three nearest cells. A folder of fewer than CELL_IMAGES * 2 images is one cell, and
   there the search is exact.

Memory holds both views, 1,088 bytes an image (220 MB at 200,000 images), and one shard.
3. In each cell, blocked matrix products give every image's `near_k` most similar images above a
   similarity floor (candidate near copies, in each view) and its `class_k` most similar images of
   its own class (how typical it is of its class, by embedding).
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import List, Optional, Tuple

import numpy as np

from components.contracts.embeddings import EmbeddingIndex, shards

DIMENSIONS = 128
PIXEL_SIDE = 12  # the tiny image a re-encoded or resized copy is pixel-near in
CELL_IMAGES = 1000
PROBES = 3
SAMPLE = 20000  # vectors the cells are fitted on, at most
BLOCK = 2048  # query rows per matrix product, at most
BLOCK_ELEMENTS = 2_000_000  # similarities per block (8 MB of float32), whatever a cell's size


@dataclasses.dataclass
class Space:
    """The images, in shard order, and their unit vectors: what they show, and their pixels."""

    paths: List[str]
    splits: List[str]
    labels: np.ndarray  # int32 [n]
    vectors: np.ndarray  # float32 [n, DIMENSIONS or fewer], unit length
    shard: np.ndarray  # int32 [n]: which of the index's shards holds the image
    row: np.ndarray  # int32 [n]: its row there
    pixels: Optional[np.ndarray] = None  # float32 [n, PIXEL_SIDE ** 2]: the tiny luminance image, unit length

    def __len__(self) -> int:
        return len(self.paths)


def space(uri: str, index: EmbeddingIndex, dimensions: int = DIMENSIONS) -> Space:
    """The projected unit vectors of every image in the artifact (two passes, one shard at a time)."""
    n, width = sum(index.images.values()), index.dimensions
    total, outer = np.zeros(width), np.zeros((width, width))
    for shard in shards(uri, index, thumbnails=False):
        x = shard.vectors.astype(np.float32)
        total += x.sum(axis=0)
        outer += x.T @ x
    mean = total / max(n, 1)
    covariance = outer / max(n, 1) - np.outer(mean, mean)
    kept = max(1, min(dimensions, n - 1, width))
    _, basis = np.linalg.eigh(covariance)
    basis = basis[:, ::-1][:, :kept].astype(np.float32)
    paths, splits = [], []
    labels, which, rows = np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32)
    vectors = np.zeros((n, kept), np.float32)
    pixels = np.zeros((n, PIXEL_SIDE * PIXEL_SIDE), np.float32)
    start = 0
    for number, shard in enumerate(shards(uri, index)):
        end = start + len(shard)
        projected = (shard.vectors.astype(np.float32) - mean.astype(np.float32)) @ basis
        vectors[start:end] = _unit(projected)
        pixels[start:end] = _unit(np.stack([tiny(t) for t in shard.thumbnails]))
        labels[start:end], which[start:end], rows[start:end] = shard.labels, number, np.arange(len(shard))
        paths += shard.paths
        splits += shard.splits
        start = end
    return Space(paths, splits, labels, vectors, which, rows, pixels)


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-6)


def tiny(thumbnail: bytes) -> np.ndarray:
    """A luminance thumbnail (ExampleGen's, row by row) at PIXEL_SIDE square, mean 0: float32 [side**2]."""
    from PIL import Image

    side = int(round(len(thumbnail) ** 0.5))
    image = Image.frombytes("L", (side, side), thumbnail).resize((PIXEL_SIDE, PIXEL_SIDE), Image.Resampling.BOX)
    values = np.asarray(image, np.float32).ravel()
    return values - values.mean()


def cells(vectors: np.ndarray, cell_images: int = CELL_IMAGES, probes: int = PROBES) -> Tuple[np.ndarray, List[np.ndarray]]:
    """(each image's home cell [n], each cell's members): members are the images that have the
    cell among their `probes` nearest centroids."""
    n = len(vectors)
    count = n // cell_images
    if count < 2:
        return np.zeros(n, np.int64), [np.arange(n)]
    from sklearn.cluster import KMeans

    sample = vectors[:: max(1, n // SAMPLE)]
    centroids = KMeans(count, n_init=1, max_iter=25, random_state=0).fit(sample).cluster_centers_.astype(np.float32)
    probes = min(probes, count)
    nearest = np.zeros((n, probes), np.int64)
    for start in range(0, n, BLOCK):
        similarity = vectors[start : start + BLOCK] @ centroids.T  # BLOCK x cells
        top = np.argpartition(-similarity, probes - 1, axis=1)[:, :probes]
        order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1)
        nearest[start : start + BLOCK] = np.take_along_axis(top, order, axis=1)
    members = [np.nonzero((nearest == cell).any(axis=1))[0] for cell in range(count)]
    return nearest[:, 0], members


@dataclasses.dataclass
class Neighbours:
    near: np.ndarray  # int64 [n, near_k]: the most similar images above the floor, -1 where none
    near_similarity: np.ndarray  # float32 [n, near_k]
    class_similarity: np.ndarray  # float32 [n, class_k]: to the most similar images of its own class, -inf where none


def _top(similarity: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest, largest first (k <= columns)."""
    top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1, kind="stable"), axis=1)


def neighbours(vectors: np.ndarray, labels: np.ndarray, near_k: int, near_floor: float, class_k: int = 0) -> Neighbours:
    """Every image's candidate near copies among `vectors` (unit rows), and with `class_k` its
    similarity to its own class (see the module)."""
    n = len(vectors)
    near = np.full((n, near_k), -1, np.int64)
    near_similarity = np.full((n, near_k), -np.inf, np.float32)
    class_similarity = np.full((n, class_k), -np.inf, np.float32)
    home, members = cells(vectors)
    for cell, inside in enumerate(members):
        queries = np.nonzero(home == cell)[0]
        keys = vectors[inside]
        block = max(16, min(BLOCK, BLOCK_ELEMENTS // max(1, len(inside))))
        for start in range(0, len(queries), block):
            rows = queries[start : start + block]
            similarity = vectors[rows] @ keys.T
            # not its own neighbour (a query is a member of its home cell; `inside` is sorted)
            similarity[np.arange(len(rows)), np.searchsorted(inside, rows)] = -np.inf
            k = min(near_k, len(inside))
            top = _top(similarity, k)
            found = np.take_along_axis(similarity, top, axis=1)
            near[rows, :k] = np.where(found >= near_floor, inside[top], -1)
            near_similarity[rows, :k] = np.where(found >= near_floor, found, -np.inf)
            if class_k:
                same = np.where(labels[rows][:, None] == labels[inside][None, :], similarity, -np.inf)
                k = min(class_k, len(inside))
                class_similarity[rows, :k] = np.take_along_axis(same, _top(same, k), axis=1)
    return Neighbours(near, near_similarity, class_similarity)


def candidate_pairs(*views: Neighbours) -> np.ndarray:
    """int64 [pairs, 2]: (i, j) with i < j, once each and sorted, from every image's near
    candidates in any of the views (of the same images; 8 bytes a pair in memory, not a Python
    tuple's 100)."""
    n = max(len(views[0].near), 1)
    keys = []
    for found in views:
        rows, columns = np.nonzero(found.near >= 0)
        seconds = found.near[rows, columns]
        keys.append(np.minimum(rows, seconds).astype(np.int64) * n + np.maximum(rows, seconds))
    unique = np.unique(np.concatenate(keys))
    return np.stack([unique // n, unique % n], axis=1)


def far_from_class(labels: np.ndarray, found: Neighbours, min_class_images: int = 20, fence: float = 3.0) -> List[Tuple[int, float]]:
    """(image, typicality) of the images far from every image of their own class: typicality is
    the mean similarity to its most similar images of that class, and an image is far when it is
    below Tukey's far-out fence of its class (first quartile - `fence` x the interquartile range).
    An image with no image of its class in its nearest cells has typicality -1. Classes with
    fewer than `min_class_images` images are not judged."""
    finite = np.where(np.isfinite(found.class_similarity), found.class_similarity, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an image alone in its class has no similarity
        typicality = np.nanmean(finite, axis=1) if finite.shape[1] else np.full(len(labels), np.nan)
    # No image of its class in the cells nearest to it: as far as it gets.
    typicality = np.where(np.isnan(typicality), -1.0, typicality)
    flagged = []
    for label in np.unique(labels):
        members = np.nonzero(labels == label)[0]
        if len(members) < min_class_images:
            continue
        q1, q3 = np.percentile(typicality[members], [25, 75])
        limit = q1 - fence * (q3 - q1)
        flagged += [(int(i), float(typicality[i])) for i in members if typicality[i] < limit]
    return sorted(flagged, key=lambda item: (item[1], item[0]))
