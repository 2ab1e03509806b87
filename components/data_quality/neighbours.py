"""Each image's neighbours in embedding space, with work and memory per image that do not grow
with the folder. Pure numpy over the Embeddings artifact's shards (contracts/embeddings.py).

1. The space. The backbone's 1,280 features are centred and projected on their top DIMENSIONS
   principal components (two streaming passes over the shards: the covariance, then the
   projection), and scaled to unit length, so that a dot product is a cosine similarity. Memory
   holds these vectors, 512 bytes an image (100 MB at 200,000), and one shard.
2. Cells. The vectors are clustered (k-means on an evenly spaced sample) into about one cell per
   CELL_IMAGES images. Each image is a member of its PROBES nearest cells and looks for neighbours
   only among the members of its nearest one: a near copy is all but certain to share one of its
   original's three nearest cells. A folder of at most CELL_IMAGES * 2 images is one cell, and
   there the search is exact.
3. In each cell, blocked matrix products give every image's `near_k` most similar images above a
   similarity floor (candidate near copies) and its `class_k` most similar images of its own class
   (how typical it is of its class).
"""
from __future__ import annotations

import dataclasses
from typing import List, Tuple

import numpy as np

from components.contracts.embeddings import EmbeddingIndex, shards

DIMENSIONS = 128
CELL_IMAGES = 1000
PROBES = 3
SAMPLE = 20000  # vectors the cells are fitted on, at most
BLOCK = 2048  # query rows per matrix product


@dataclasses.dataclass
class Space:
    """The images, in shard order, and their unit vectors."""

    paths: List[str]
    splits: List[str]
    labels: np.ndarray  # int32 [n]
    vectors: np.ndarray  # float32 [n, DIMENSIONS or fewer], unit length
    shard: np.ndarray  # int32 [n]: which of the index's shards holds the image
    row: np.ndarray  # int32 [n]: its row there

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
    start = 0
    for number, shard in enumerate(shards(uri, index, thumbnails=False)):
        end = start + len(shard)
        projected = (shard.vectors.astype(np.float32) - mean.astype(np.float32)) @ basis
        vectors[start:end] = projected / np.maximum(np.linalg.norm(projected, axis=1, keepdims=True), 1e-6)
        labels[start:end], which[start:end], rows[start:end] = shard.labels, number, np.arange(len(shard))
        paths += shard.paths
        splits += shard.splits
        start = end
    return Space(paths, splits, labels, vectors, which, rows)


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
        similarity = vectors[start : start + BLOCK] @ centroids.T
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


def neighbours(space: Space, near_k: int, near_floor: float, class_k: int) -> Neighbours:
    """Every image's candidate near copies and its similarity to its own class (see the module)."""
    n = len(space)
    near = np.full((n, near_k), -1, np.int64)
    near_similarity = np.full((n, near_k), -np.inf, np.float32)
    class_similarity = np.full((n, class_k), -np.inf, np.float32)
    home, members = cells(space.vectors)
    for cell, inside in enumerate(members):
        queries = np.nonzero(home == cell)[0]
        keys = space.vectors[inside]
        for start in range(0, len(queries), BLOCK):
            rows = queries[start : start + BLOCK]
            similarity = space.vectors[rows] @ keys.T
            similarity[rows[:, None] == inside[None, :]] = -np.inf  # not its own neighbour
            k = min(near_k, len(inside))
            top = _top(similarity, k)
            found = np.take_along_axis(similarity, top, axis=1)
            near[rows, :k] = np.where(found >= near_floor, inside[top], -1)
            near_similarity[rows, :k] = np.where(found >= near_floor, found, -np.inf)
            same = np.where(space.labels[rows][:, None] == space.labels[inside][None, :], similarity, -np.inf)
            k = min(class_k, len(inside))
            class_similarity[rows, :k] = np.take_along_axis(same, _top(same, k), axis=1)
    return Neighbours(near, near_similarity, class_similarity)


def candidate_pairs(found: Neighbours) -> List[Tuple[int, int, float]]:
    """(i, j, similarity) with i < j, once each, from every image's near candidates."""
    rows, columns = np.nonzero(found.near >= 0)
    firsts, seconds = rows, found.near[rows, columns]
    low, high = np.minimum(firsts, seconds), np.maximum(firsts, seconds)
    similarity = found.near_similarity[rows, columns]
    pairs = {}
    for a, b, s in zip(low.tolist(), high.tolist(), similarity.tolist()):
        pairs[(a, b)] = max(s, pairs.get((a, b), -1.0))
    return [(a, b, s) for (a, b), s in sorted(pairs.items())]


def far_from_class(space: Space, found: Neighbours, min_class_images: int = 20, fence: float = 3.0) -> List[Tuple[int, float]]:
    """(image, typicality) of the images far from every image of their own class: typicality is
    the mean similarity to its most similar images of that class, and an image is far when it is
    below Tukey's far-out fence of its class (first quartile - `fence` x the interquartile range).
    Classes with fewer than `min_class_images` images are not judged."""
    finite = np.where(np.isfinite(found.class_similarity), found.class_similarity, np.nan)
    typicality = np.nanmean(finite, axis=1) if finite.shape[1] else np.full(len(space), np.nan)
    flagged = []
    for label in np.unique(space.labels):
        members = np.nonzero((space.labels == label) & np.isfinite(typicality))[0]
        if len(members) < min_class_images:
            continue
        q1, q3 = np.percentile(typicality[members], [25, 75])
        limit = q1 - fence * (q3 - q1)
        flagged += [(int(i), float(typicality[i])) for i in members if typicality[i] < limit]
    return sorted(flagged, key=lambda item: (item[1], item[0]))
