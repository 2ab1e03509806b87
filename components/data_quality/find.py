"""The Beam job that finds duplicates, conflicting labels, leaks and outliers, and the record
(`data_quality.json`) made from what it writes. Work and memory stay per image or per group:
images meet only those with the same pixel hash (a GroupByKey) or, for near duplicates, those
sharing a pHash band (near.py: each image keeps its closest few per band, and the pairs are
confirmed on thumbnails joined by path); the blur test compares each image with its class's
median (approximate quantiles), never image with image.
"""
from __future__ import annotations

import dataclasses
import json
import posixpath
from typing import Dict, List, Sequence

import apache_beam as beam
import tensorflow as tf

from components import artifacts, features
from components.data_quality import near
from components.contracts.quality import ImageGroup, Outlier, QualityCounts, QualityRecord
from components.data_quality.checks import (
    ASPECT_RATIO,
    BLURRY,
    NEAR_CONSTANT,
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

GROUPS, OUTLIERS, NEAR = "groups", "outliers", "near"
SHOWN = 12  # groups (and outliers) of each kind with thumbnails in the report


def _parser(split: str):
    """serialized example -> (Image, pHash, crop hashes, luminance thumbnail)."""

    def parse(serialized: bytes):
        feature = tf.train.Example.FromString(serialized).features.feature

        def one(key, kind):
            return getattr(feature[key], kind).value[0]

        image = Image(
            path=one(features.PATH_KEY, "bytes_list").decode("utf-8", "replace"),
            split=split,
            label=int(one(features.LABEL_KEY, "int64_list")),
            pixel_hash=one(features.PIXEL_HASH_KEY, "bytes_list").decode("ascii"),
            contrast=float(one(features.CONTRAST_KEY, "float_list")),
            sharpness=float(one(features.SHARPNESS_KEY, "float_list")),
            width=int(one(features.IMAGE_WIDTH_KEY, "int64_list")),
            height=int(one(features.IMAGE_HEIGHT_KEY, "int64_list")),
        )
        crops = tuple(feature[features.CROP_HASHES_KEY].int64_list.value)
        return image, int(one(features.PERCEPTUAL_HASH_KEY, "int64_list")), crops, one(features.THUMBNAIL_KEY, "bytes_list")

    return parse


def _outlier_rows(image: Image, options: QualityOptions):
    found = outlier(image, options)
    if found:
        yield json.dumps({**dataclasses.asdict(image), "kind": found[0], "value": found[1]})


def _blurry_rows(image: Image, medians: Dict[int, list], options: QualityOptions):
    quantiles = medians.get(image.label)
    if quantiles and is_blurry(image, quantiles[1], options):
        yield json.dumps({**dataclasses.asdict(image), "kind": BLURRY, "value": image.sharpness})


def _bands(row):
    image, main, crops, _ = row
    for band, value, own in near.band_keys(main, crops):
        yield (band, value), (image.path, own, main, crops)


def _candidates(bucket, max_bits: int):
    for first, second, bits in near.candidate_pairs(bucket[1], max_bits):
        yield first, (second, bits)


def _with_first_thumbnail(joined):
    _, grouped = joined
    for found in grouped["thumbnail"]:
        for second, bits in grouped["pairs"]:
            yield second, (found, bits)


def _confirmed(joined, max_difference: float):
    _, grouped = joined
    for second in grouped["thumbnail"]:
        for first, bits in grouped["firsts"]:
            gap = near.difference(near.thumbnail_array(first[3]), near.thumbnail_array(second[3]), 2 * max_difference)
            if gap <= max_difference:
                yield json.dumps({"images": [list(first[:3]), list(second[:3])], "bits": bits, "difference": round(gap, 4)})


def _find_near_duplicates(parsed, options: QualityOptions, out_dir: str) -> None:
    """Candidate pairs from pHash band buckets, confirmed on the two thumbnails (near.py)."""
    thumbnails = parsed | "Thumbnails" >> beam.Map(
        lambda row: (row[0].path, (row[0].path, row[0].split, row[0].label, row[3]))
    )
    pairs = (
        parsed
        | "Bands" >> beam.FlatMap(_bands)
        | "SameBand" >> beam.GroupByKey()
        | "Candidates" >> beam.FlatMap(_candidates, options.near_duplicate_bits)
        | "PairKey" >> beam.Map(lambda kv: ((kv[0], kv[1][0]), kv[1][1]))
        | "OncePerPair" >> beam.CombinePerKey(min)
        | "BothImages" >> beam.FlatMap(lambda kv: [(kv[0][0], (kv[0][1], kv[1])), (kv[0][1], (kv[0][0], kv[1]))])
        | "PartnersPerImage" >> beam.GroupByKey()
        | "Closest" >> beam.FlatMap(
            lambda kv: [((min(kv[0], p), max(kv[0], p)), bits) for p, bits in near.closest_partners(kv[1])]
        )
        | "KeptPairs" >> beam.CombinePerKey(min)
        | "ByFirst" >> beam.Map(lambda kv: (kv[0][0], (kv[0][1], kv[1])))
    )
    firsts = (
        {"pairs": pairs, "thumbnail": thumbnails}
        | "JoinFirst" >> beam.CoGroupByKey()
        | "BySecond" >> beam.FlatMap(_with_first_thumbnail)
    )
    (
        {"firsts": firsts, "thumbnail": thumbnails}
        | "JoinSecond" >> beam.CoGroupByKey()
        | "Confirm" >> beam.FlatMap(_confirmed, options.near_duplicate_difference)
        | "WriteNear" >> beam.io.WriteToText(posixpath.join(out_dir, NEAR), file_name_suffix=".jsonl")
    )


def find_problems(pipeline: beam.Pipeline, patterns: Dict[str, str], options: QualityOptions, out_dir: str) -> None:
    """Adds to `pipeline` the steps that write GROUPS and OUTLIERS JSON lines into `out_dir`."""
    parsed = [
        pipeline
        | f"Read{split}" >> beam.io.ReadFromTFRecord(pattern, compression_type=beam.io.filesystem.CompressionTypes.GZIP)
        | f"Parse{split}" >> beam.Map(_parser(split))
        for split, pattern in sorted(patterns.items())
    ] | "AllSplits" >> beam.Flatten()
    images = parsed | "Images" >> beam.Map(lambda row: row[0])
    _find_near_duplicates(parsed, options, out_dir)
    (
        images
        | "ByPixels" >> beam.Map(lambda image: (image.pixel_hash, image))
        | "SamePixels" >> beam.GroupByKey()
        | "Repeated" >> beam.FlatMap(lambda kv: [sorted(kv[1])] if len(kv[1]) > 1 else [])
        | "GroupJson" >> beam.Map(lambda group: json.dumps([dataclasses.asdict(i) for i in group]))
        | "WriteGroups" >> beam.io.WriteToText(posixpath.join(out_dir, GROUPS), file_name_suffix=".jsonl")
    )
    medians = (
        images
        | "Sharpness" >> beam.Map(lambda image: (image.label, image.sharpness))
        | "ClassMedian" >> beam.transforms.stats.ApproximateQuantiles.PerKey(3)
    )
    odd = images | "Odd" >> beam.FlatMap(_outlier_rows, options)
    blurry = images | "Blurry" >> beam.FlatMap(_blurry_rows, beam.pvalue.AsDict(medians), options)
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


def quality_record(out_dir: str, class_names: Sequence[str], options: QualityOptions) -> QualityRecord:
    """data_quality.json's record from the job's files (which it removes); without thumbnails."""
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
    near_groups = near_duplicate_groups([json.loads(line) for line in _lines(out_dir, NEAR)], same_pixels, class_names)
    for group in near_groups:
        for kind in near_group_kinds(group):
            kinds[kind].append(group)
    outliers = [
        Outlier(path=o["path"], split=o["split"], class_name=class_names[o["label"]], kind=o["kind"], value=o["value"])
        for o in sorted(
            (json.loads(line) for line in _lines(out_dir, OUTLIERS)), key=lambda o: (o["kind"], o["value"], o["path"])
        )
    ]
    leaked = leaked_eval_images(kinds["train_eval_leaks"])
    counts = QualityCounts(
        exact_duplicates=len(kinds["exact_duplicates"]),
        duplicate_images=sum(len(g.images) - 1 for g in kinds["exact_duplicates"]),
        near_duplicates=len(near_groups),
        near_duplicate_images=len({i.path for g in near_groups for i in g.images}),
        conflicting_labels=len(kinds["conflicting_labels"]),
        train_eval_leaks=len(kinds["train_eval_leaks"]),
        leaked_eval_images=len(leaked),
        **{kind: sum(o.kind == kind for o in outliers) for kind in (NEAR_CONSTANT, ASPECT_RATIO, BLURRY)},
    )
    quality = QualityRecord(
        **kinds, leaked_eval_images=leaked, outliers=outliers, options=options.to_json(), counts=counts, findings=[]
    )
    return dataclasses.replace(quality, findings=findings(quality))


def shown_paths(quality: QualityRecord) -> List[str]:
    """The images the report shows: those of the first SHOWN groups of each kind, and outliers."""
    paths = set()
    for kind in ("conflicting_labels", "train_eval_leaks", "exact_duplicates", "near_duplicates"):
        for group in getattr(quality, kind)[:SHOWN]:
            paths.update(i.path for i in group.images[:4])
    for kind in (NEAR_CONSTANT, ASPECT_RATIO, BLURRY):
        paths.update([o.path for o in quality.outliers if o.kind == kind][:SHOWN])
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
