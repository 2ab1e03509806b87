"""The Beam job that finds exact duplicates, conflicting labels, leaks and outliers, and the record
(`data_quality.json`) made from what it writes and from the embedding checks (embedded.py: near
copies, images far from their class, label issues). In the Beam job images meet only those with
the same pixel hash (a count per hash, then a GroupByKey of the repeated ones only); the blur
test compares each image with its class's median (approximate quantiles), never image with image.
"""
from __future__ import annotations

import dataclasses
import json
import posixpath
from typing import Dict, List, Optional, Sequence

import apache_beam as beam
import tensorflow as tf

from components import artifacts, features, progress
from components.beam_reads import read_splits
from components.contracts.quality import ImageGroup, Outlier, QualityCounts, QualityRecord
from components.data_quality.embedded import EmbeddingFindings
from components.data_quality.checks import (
    BLURRY,
    ODD_KINDS,
    Image,
    QualityOptions,
    findings,
    group_kinds,
    group_record,
    near_duplicate_groups,
    near_group_kinds,
    is_blurry,
    leaked_eval_images,
    outlier,
)
from components.reporting.images import thumbnail

GROUPS, OUTLIERS = "groups", "outliers"
SHOWN = 12  # groups (and outliers) of each kind with thumbnails in the report
SHOWN_LABEL_ISSUES = 24  # the worst label issues, with thumbnails


def _parser(split: str):
    """serialized example -> Image."""

    def parse(serialized: bytes) -> Image:
        feature = tf.train.Example.FromString(serialized).features.feature

        def one(key, kind):
            return getattr(feature[key], kind).value[0]

        return Image(
            path=one(features.PATH_KEY, "bytes_list").decode("utf-8", "replace"),
            split=split,
            label=int(one(features.LABEL_KEY, "int64_list")),
            pixel_hash=one(features.PIXEL_HASH_KEY, "bytes_list").decode("ascii"),
            contrast=float(one(features.CONTRAST_KEY, "float_list")),
            sharpness=float(one(features.SHARPNESS_KEY, "float_list")),
            width=int(one(features.IMAGE_WIDTH_KEY, "int64_list")),
            height=int(one(features.IMAGE_HEIGHT_KEY, "int64_list")),
        )

    return parse


def _outlier_rows(image: Image, options: QualityOptions):
    found = outlier(image, options)
    if found:
        yield json.dumps({**dataclasses.asdict(image), "kind": found[0], "value": found[1]})


def _blurry_rows(image: Image, medians: Dict[int, list], options: QualityOptions):
    quantiles = medians.get(image.label)
    if quantiles and is_blurry(image, quantiles[1], options):
        yield json.dumps({**dataclasses.asdict(image), "kind": BLURRY, "value": image.sharpness})


PROGRESS_STEP = "DataQuality"
PROGRESS_UNIT = "image reads (two passes)"


def _read(pipeline: beam.Pipeline, patterns: Dict[str, str], name: str, total: Optional[int]):
    parsed = read_splits(pipeline, patterns, name) | f"{name}Parse" >> beam.MapTuple(lambda split, record: _parser(split)(record))
    return progress.counted(parsed, PROGRESS_STEP, PROGRESS_UNIT, total, where=name)


def find_problems(
    pipeline: beam.Pipeline, patterns: Dict[str, str], options: QualityOptions, out_dir: str, images: Optional[int] = None
) -> None:
    """Adds to `pipeline` the steps that write GROUPS and OUTLIERS JSON lines into `out_dir`;
    `images` (how many there are) is what the progress lines count towards, twice.

    The examples are read twice. The first pass counts images per pixel hash (a combine: a count
    per hash, never the images), finds the class medians of sharpness and the near-constant and
    extreme-aspect images. The second, once those are known, groups only the images whose hash
    is repeated and finds the blurry ones. A single pass would make the in-process runner hold
    every image until the medians and the repeated hashes are ready (440 MB at 200,000 images)."""
    total = 2 * images if images else None
    images = _read(pipeline, patterns, "First", total)
    repeated = (
        images
        | "ByPixels" >> beam.Map(lambda image: (image.pixel_hash, 1))
        | "CountPixels" >> beam.CombinePerKey(sum)
        | "Repeated" >> beam.Filter(lambda kv: kv[1] > 1)
    )
    medians = (
        images
        | "Sharpness" >> beam.Map(lambda image: (image.label, image.sharpness))
        | "ClassMedian" >> beam.transforms.stats.ApproximateQuantiles.PerKey(3)
    )
    odd = images | "Odd" >> beam.FlatMap(_outlier_rows, options)
    again = _read(pipeline, patterns, "Second", total)
    (
        again
        | "WithRepeatedPixels" >> beam.Filter(lambda image, known: image.pixel_hash in known, known=beam.pvalue.AsDict(repeated))
        | "ByRepeatedPixels" >> beam.Map(lambda image: (image.pixel_hash, image))
        | "SamePixels" >> beam.GroupByKey()
        | "Sorted" >> beam.Map(lambda kv: sorted(kv[1]))
        | "GroupJson" >> beam.Map(lambda group: json.dumps([dataclasses.asdict(i) for i in group]))
        | "WriteGroups" >> beam.io.WriteToText(posixpath.join(out_dir, GROUPS), file_name_suffix=".jsonl")
    )
    blurry = again | "Blurry" >> beam.FlatMap(_blurry_rows, beam.pvalue.AsDict(medians), options)
    (
        (odd, blurry)
        | "Outliers" >> beam.Flatten()
        | "WriteOutliers" >> beam.io.WriteToText(posixpath.join(out_dir, OUTLIERS), file_name_suffix=".jsonl")
    )


def _lines(out_dir: str, name: str) -> List[str]:
    rows = []
    for path in sorted(tf.io.gfile.glob(posixpath.join(out_dir, name) + "*.jsonl")):
        with tf.io.gfile.GFile(path) as f:
            rows += [line for line in f.read().splitlines() if line]
        tf.io.gfile.remove(path)
    return rows


def quality_record(
    out_dir: str, class_names: Sequence[str], options: QualityOptions, embedded: Optional[EmbeddingFindings] = None
) -> QualityRecord:
    """data_quality.json's record from the job's files (which it removes) and the embedding checks
    (None: there were none); without thumbnails."""
    groups = sorted(
        ([Image(**i) for i in json.loads(line)] for line in _lines(out_dir, GROUPS)), key=lambda g: g[0].path
    )
    kinds: Dict[str, List[ImageGroup]] = {
        "exact_duplicates": [], "near_duplicates": [], "conflicting_labels": [], "train_eval_leaks": []
    }  # fmt: skip
    for members in groups:
        group = group_record(members, class_names)
        for kind in group_kinds(members):
            kinds[kind].append(group)
    same_pixels = {i.path: g.pixel_hash for g in kinds["exact_duplicates"] for i in g.images}
    near_groups = near_duplicate_groups(embedded.near_pairs if embedded else [], same_pixels, class_names)
    for group in near_groups:
        for kind in near_group_kinds(group):
            kinds[kind].append(group)
    outliers = sorted(
        [
            Outlier(path=o["path"], split=o["split"], class_name=class_names[o["label"]], kind=o["kind"], value=o["value"])
            for o in (json.loads(line) for line in _lines(out_dir, OUTLIERS))
        ]
        + (embedded.far if embedded else []),
        key=lambda o: (o.kind, o.value, o.path),
    )
    leaked = leaked_eval_images(kinds["train_eval_leaks"])
    counts = QualityCounts(
        exact_duplicates=len(kinds["exact_duplicates"]),
        duplicate_images=sum(len(g.images) - 1 for g in kinds["exact_duplicates"]),
        near_duplicates=len(near_groups),
        near_duplicate_images=len({i.path for g in near_groups for i in g.images}),
        conflicting_labels=len(kinds["conflicting_labels"]),
        train_eval_leaks=len(kinds["train_eval_leaks"]),
        leaked_eval_images=len(leaked),
        **{kind: sum(o.kind == kind for o in outliers) for kind in ODD_KINDS},
        label_issues=len(embedded.label_issues) if embedded else 0,
    )
    quality = QualityRecord(
        **kinds,
        leaked_eval_images=leaked,
        outliers=outliers,
        options=options.to_json(),
        counts=counts,
        findings=[],
        label_issues=embedded.label_issues if embedded else [],
        label_check=embedded.label_check if embedded else None,
        seconds=embedded.seconds if embedded else {},
    )
    return dataclasses.replace(quality, findings=findings(quality))


def shown_paths(quality: QualityRecord) -> List[str]:
    """The images the report shows: those of the first SHOWN groups of each kind, and outliers."""
    paths = set()
    for kind in ("conflicting_labels", "train_eval_leaks", "exact_duplicates", "near_duplicates"):
        for group in getattr(quality, kind)[:SHOWN]:
            paths.update(i.path for i in group.images[:4])
    for kind in ODD_KINDS:
        paths.update([o.path for o in quality.outliers if o.kind == kind][:SHOWN])
    paths.update(issue.path for issue in quality.label_issues[:SHOWN_LABEL_ISSUES])
    return sorted(paths)


def write_thumbnails(file_pattern: str, wanted: Sequence[str], out_dir: str) -> Dict[str, str]:
    """{path: thumbnail file relative to out_dir} for the wanted images: one pass over the examples."""
    wanted, found = set(wanted), {}
    if not wanted:
        return found
    folder = posixpath.join(out_dir, artifacts.ERROR_IMAGES_DIR)
    tf.io.gfile.makedirs(folder)
    for batch in artifacts.image_example_batches(file_pattern):
        for path, image in zip(batch.paths, batch.images):
            if path in wanted and path not in found:
                jpeg = thumbnail(image)
                if jpeg:
                    relative = posixpath.join(artifacts.ERROR_IMAGES_DIR, f"{len(found):04d}.jpg")
                    artifacts.write_bytes(out_dir, relative, jpeg)
                    found[path] = relative
    return found
