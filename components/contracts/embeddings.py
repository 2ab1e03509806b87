"""The Embeddings artifact: embeddings.json (`EmbeddingIndex`) and shards/*.npz (`Shard`).

A shard holds a few thousand images: their pooled backbone features (float16, one row each) and
what a reader needs without joining back to the examples: path, split, label and ExampleGen's
luminance thumbnail (which confirms a near copy pixel by pixel). Readers stream shards one at a
time (`shards`), so memory holds one shard whatever the number of images.
"""
from __future__ import annotations

import dataclasses
import io
import posixpath
from typing import Dict, Iterator, List, Sequence

import numpy as np
import tensorflow as tf

from components.artifacts import EMBEDDING_SHARDS_DIR, EMBEDDINGS_FILE
from components.contracts.record import Record


@dataclasses.dataclass(frozen=True)
class EmbeddingIndex(Record):
    """embeddings.json: which network made the vectors, at what size, and where they are."""

    FILE = EMBEDDINGS_FILE

    backbone: str  # the network and layer, e.g. efficientnet_lite0 pooled features
    image_size: int  # px: every image is resized to this square first
    dimensions: int
    dtype: str  # of the stored vectors
    images: Dict[str, int]  # split -> images embedded
    shards: List[str]  # relative to the artifact, sorted
    seconds: float  # the Beam job's wall time


@dataclasses.dataclass(frozen=True)
class Shard:
    """Rows of images, in the order they were embedded."""

    paths: List[str]
    splits: List[str]
    labels: np.ndarray  # int32 [n]
    vectors: np.ndarray  # float16 [n, dimensions]
    thumbnails: List[bytes]  # ExampleGen's luminance thumbnails, row by row

    def __len__(self) -> int:
        return len(self.paths)


def shard_name(first_path: str, rows: int) -> str:
    """A shard's file name from its content, so that a retried bundle overwrites its own file."""
    import hashlib

    digest = hashlib.sha1(f"{first_path}\0{rows}".encode("utf-8")).hexdigest()[:16]
    return posixpath.join(EMBEDDING_SHARDS_DIR, f"shard-{digest}.npz")


def write_shard(artifact_uri: str, shard: Shard) -> str:
    """Writes the shard into the artifact (local or gs://); returns its name relative to it."""
    name = shard_name(shard.paths[0], len(shard))
    lengths = np.array([len(t) for t in shard.thumbnails], np.int32)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        paths=np.array(shard.paths, dtype=str),
        splits=np.array(shard.splits, dtype=str),
        labels=np.asarray(shard.labels, np.int32),
        vectors=np.asarray(shard.vectors, np.float16),
        thumbnail_lengths=lengths,
        thumbnails=np.frombuffer(b"".join(shard.thumbnails), np.uint8),
    )
    path = posixpath.join(artifact_uri, name)
    tf.io.gfile.makedirs(posixpath.dirname(path))
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(buffer.getvalue())
    return name


def read_shard(artifact_uri: str, name: str, thumbnails: bool = True) -> Shard:
    with tf.io.gfile.GFile(posixpath.join(artifact_uri, name), "rb") as f:
        data = np.load(io.BytesIO(f.read()))
        pictures: List[bytes] = []
        if thumbnails:
            flat, ends = data["thumbnails"].tobytes(), np.cumsum(data["thumbnail_lengths"])
            pictures = [flat[start:end] for start, end in zip(np.concatenate([[0], ends[:-1]]), ends)]
        return Shard(
            paths=[str(p) for p in data["paths"]],
            splits=[str(s) for s in data["splits"]],
            labels=data["labels"],
            vectors=data["vectors"],
            thumbnails=pictures,
        )


def shards(artifact_uri: str, index: EmbeddingIndex, thumbnails: bool = True) -> Iterator[Shard]:
    """The artifact's shards, one at a time, in the index's order."""
    for name in index.shards:
        yield read_shard(artifact_uri, name, thumbnails)


def shard_names(artifact_uri: str) -> List[str]:
    """The shards in an artifact's folder, relative to it, sorted (what the index lists)."""
    pattern = posixpath.join(artifact_uri, EMBEDDING_SHARDS_DIR, "*.npz")
    return sorted(posixpath.join(EMBEDDING_SHARDS_DIR, posixpath.basename(p)) for p in tf.io.gfile.glob(pattern))


def split_counts(artifact_uri: str, names: Sequence[str]) -> Dict[str, int]:
    """split -> rows, over the named shards."""
    counts: Dict[str, int] = {}
    for name in names:
        for split in read_shard(artifact_uri, name, thumbnails=False).splits:
            counts[split] = counts.get(split, 0) + 1
    return dict(sorted(counts.items()))
