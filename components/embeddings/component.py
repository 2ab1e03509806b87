"""The Embeddings step: the bundled backbone's pooled features of every image, in a Beam job.

Each worker builds the backbone once (`setup`), embeds the images a batch at a time and writes a
shard file every `shard_images` images (and one for the rest of each bundle), so memory holds a
shard whatever the number of images and the job scales out like the other Beam steps. The shard
names that the job commits are the ones the index lists: a shard from a failed and retried
bundle is removed.
"""

import json
import posixpath
import time
from typing import Dict, List, Optional, Tuple

import apache_beam as beam
import tensorflow as tf
from tfx.dsl.component.experimental.annotations import BeamComponentParameter, InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import Examples

from components import artifacts, features, progress
from components.beam_reads import read_splits
from components.contracts import record
from components.contracts.embeddings import EmbeddingIndex, Shard, shard_names, write_shard
from components.embeddings.embed import BACKBONE, DIMENSIONS, Embedder
from components.embeddings.options import EmbeddingOptions

Row = Tuple[str, str, int, bytes, bytes]  # path, split, label, image bytes, luminance thumbnail
_LISTED = "shard_list"


def _parser(split: str):
    def parse(serialized: bytes) -> Row:
        feature = tf.train.Example.FromString(serialized).features.feature
        return (
            feature[features.PATH_KEY].bytes_list.value[0].decode("utf-8", "replace"),
            split,
            int(feature[features.LABEL_KEY].int64_list.value[0]),
            feature[features.IMAGE_KEY].bytes_list.value[0],
            feature[features.THUMBNAIL_KEY].bytes_list.value[0],
        )

    return parse


class _EmbedShards(beam.DoFn):
    """Rows -> shard files in the artifact; outputs each shard's line for the list (name, counts)."""

    def __init__(self, artifact_uri: str, options: EmbeddingOptions):
        self._uri, self._options = artifact_uri, options

    def setup(self):
        self._embedder = Embedder(self._options.embedding_image_size)

    def start_bundle(self):
        self._pending: List[Row] = []
        self._done: List[Tuple[Row, object]] = []

    def _embed(self):
        if self._pending:
            vectors = self._embedder([row[3] for row in self._pending])
            self._done += list(zip(self._pending, vectors))
            self._pending = []

    def _write(self) -> str:
        """Writes the shard; returns its line for the list: its name and images per split."""
        rows, self._done = self._done, []
        shard = Shard(
            paths=[r[0] for r, _ in rows],
            splits=[r[1] for r, _ in rows],
            labels=[r[2] for r, _ in rows],
            vectors=[v for _, v in rows],
            thumbnails=[r[4] for r, _ in rows],
        )
        counts: Dict[str, int] = {}
        for split in shard.splits:
            counts[split] = counts.get(split, 0) + 1
        return json.dumps({"shard": write_shard(self._uri, shard), "images": counts})

    def process(self, row: Row):
        self._pending.append(row)
        if len(self._pending) >= self._options.embedding_batch_size:
            self._embed()
        if len(self._done) >= self._options.shard_images:
            yield self._write()

    def finish_bundle(self):
        self._embed()
        if self._done:
            yield beam.utils.windowed_value.WindowedValue(
                self._write(), beam.utils.timestamp.MIN_TIMESTAMP, [beam.transforms.window.GlobalWindow()]
            )


PROGRESS_STEP = "Embeddings"


def embed_examples(
    pipeline: beam.Pipeline, patterns, options: EmbeddingOptions, artifact_uri: str, total: Optional[int] = None
) -> None:
    """Adds to `pipeline` the steps that write the shards and the list of their names; `total`
    (the images ExampleGen ingested) is what the progress lines count towards."""
    rows = read_splits(pipeline, patterns, "Read") | "Parse" >> beam.MapTuple(lambda split, record: _parser(split)(record))
    (
        progress.counted(rows, PROGRESS_STEP, "images", total)
        | "Embed" >> beam.ParDo(_EmbedShards(artifact_uri, options))
        | "ListShards" >> beam.io.WriteToText(posixpath.join(artifact_uri, _LISTED), file_name_suffix=".txt")
    )


def _committed(artifact_uri: str) -> Tuple[List[str], Dict[str, int]]:
    """The shard names the job committed, and their images per split (from the job's list, not
    by reading the shards again); removes the list files and any shard not on them."""
    names, counts = set(), {}
    for path in tf.io.gfile.glob(posixpath.join(artifact_uri, _LISTED) + "*.txt"):
        with tf.io.gfile.GFile(path) as f:
            for line in f.read().splitlines():
                if line:
                    listed = json.loads(line)
                    names.add(listed["shard"])
                    for split, n in listed["images"].items():
                        counts[split] = counts.get(split, 0) + n
        tf.io.gfile.remove(path)
    for orphan in set(shard_names(artifact_uri)) - names:
        tf.io.gfile.remove(posixpath.join(artifact_uri, orphan))
    return sorted(names), dict(sorted(counts.items()))


@component(use_beam=True)
def Embeddings(
    examples: InputArtifact[Examples],
    embeddings: OutputArtifact[artifacts.Embeddings],
    options: Parameter[str],
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
) -> None:
    """Embeds every image of every split with the bundled ImageNet backbone.

    `options` is `EmbeddingOptions.to_parameter()`. Writes shards/*.npz and embeddings.json
    (`contracts.embeddings.EmbeddingIndex`) into `embeddings`; DataQuality reads them.
    """
    settings = EmbeddingOptions.from_parameter(options)
    splits = artifact_utils.decode_split_names(examples.split_names)
    patterns = {split: artifact_utils.get_split_uri([examples], split) + "/*" for split in splits}
    started = time.monotonic()
    with beam_pipeline as pipeline:
        embed_examples(pipeline, patterns, settings, embeddings.uri, examples.get_int_custom_property("ingested") or None)
    names, counts = _committed(embeddings.uri)
    index = EmbeddingIndex(
        backbone=BACKBONE,
        image_size=settings.embedding_image_size,
        dimensions=DIMENSIONS,
        dtype="float16",
        images=counts,
        shards=names,
        seconds=round(time.monotonic() - started, 1),
    )
    record.write(index, embeddings.uri)
    embeddings.set_int_custom_property("images", sum(index.images.values()))
    progress.final_count(PROGRESS_STEP, sum(index.images.values()), index.seconds)
