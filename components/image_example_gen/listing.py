"""The walk of the data dir on Beam's workers: a class folder per element, no list of files.

`ListImages` takes the class folders (`inventory.plan_listing`) and yields, for every image file
under them, (path relative to the data dir, class, split index), and every entry the walk rejects
as {path, reason}. It gives what `inventory.take_inventory` and `layout.split_assignment` give in
one process, and shuffles only what needs to meet:

* each folder is walked by `inventory.list_class_folder` on a worker;
* a file reached by two paths is read once (`inventory.keep_first`): only paths through a symbolic
  link can lead to a file another path leads to, so only they, and the paths they collide with,
  are grouped by real path; usually there are none;
* with class folders, the split is the hash of the path (`layout.hash_split`), computed image by
  image, except for a class the hash leaves without an image in a split: its images are grouped
  and split by `layout.split_assignment`, whose fix-up needs the whole class.

Shuffling every path by real path and by class held them all in memory on Beam's in-process
runner: the data steps at 50,000 images peaked at 1,100 MiB that way, 928 MiB this way.
"""
from __future__ import annotations

from typing import Dict, List

import apache_beam as beam

from components.image_example_gen import inventory
from components.image_example_gen.layout import DataLayout, hash_split, split_assignment

REJECTED = "rejected"
_CONTESTED, _SHORT = "contested", "short"


class _ListClassFolder(beam.DoFn):
    """A class folder -> (folder, candidate) for every image file under it, and its rejects on
    REJECTED: the walk of `inventory`, run where the folder is read."""

    def __init__(self, data_dir: str):
        self._data_dir = data_dir

    def process(self, folder: inventory.ClassFolder):
        images, rejected = inventory.list_class_folder(self._data_dir, folder)
        for path, reason in rejected:
            yield beam.pvalue.TaggedOutput(REJECTED, {"path": path, "reason": reason})
        for candidate in images:
            yield folder, candidate


def _route_by_link(listed, linked_real_paths: Dict[str, None]):
    """A path through a link, or one a linked path also reaches -> _CONTESTED (keyed by real
    path); any other path leads to a file no other path reaches -> (subdir, rel_path, class)."""
    folder, candidate = listed
    if candidate.via_link or candidate.real_path in linked_real_paths:
        yield beam.pvalue.TaggedOutput(_CONTESTED, (candidate.real_path, listed))
    else:
        yield folder.subdir, candidate.rel_path, candidate.class_name


def _keep_first(grouped):
    """(real path, [(folder, candidate)]) -> the one candidate read, and the other paths rejected."""
    _, paths = grouped
    (folder, first), duplicates = inventory.keep_first(list(paths))
    for path, reason in duplicates:
        yield beam.pvalue.TaggedOutput(REJECTED, {"path": path, "reason": reason})
    yield folder.subdir, first.rel_path, first.class_name


def _short_classes(grouped, splits: int):
    """(class, [(split, images)]) -> the class, if it has an image for each split but the hash
    left a split without one (the case `layout.split_assignment` fixes up)."""
    class_name, counts = grouped
    counts = list(counts)
    if sum(n for _, n in counts) >= splits and len(counts) < splits:
        yield class_name, None


def _route_by_class(image, short_classes: Dict[str, None]):
    rel_path, class_name, split = image
    if class_name in short_classes:
        yield beam.pvalue.TaggedOutput(_SHORT, (class_name, rel_path))
    else:
        yield image


def _assign_class_splits(grouped, hash_buckets: List[int]):
    """(class, [rel_path]) -> (rel_path, class, split index) by `layout.split_assignment` over it."""
    class_name, paths = grouped
    images = [(rel_path, class_name) for rel_path in paths]
    for rel_path, split in sorted(split_assignment(images, hash_buckets).items()):
        yield rel_path, class_name, split


@beam.ptransform_fn
def ListImages(pipeline, layout: DataLayout, folders: List[inventory.ClassFolder], splits: List[str], hash_buckets: List[int]):
    """-> (images: (rel_path, class, split index), rejects: {path, reason}); see the module docstring."""
    listed = (
        pipeline
        | "ClassFolders" >> beam.Create(folders)
        # Spread the folders over workers; Create alone may keep them on one.
        | "DistributeFolders" >> beam.Reshuffle()
        | "ListFolders" >> beam.ParDo(_ListClassFolder(layout.data_dir)).with_outputs(REJECTED, main="candidates")
    )
    linked = (
        listed.candidates
        | "ThroughLinks" >> beam.Filter(lambda listed_image: listed_image[1].via_link)
        | "LinkedRealPaths" >> beam.Map(lambda listed_image: (listed_image[1].real_path, None))
    )
    routed = listed.candidates | "RouteByLink" >> beam.FlatMap(
        _route_by_link, linked_real_paths=beam.pvalue.AsDict(linked)
    ).with_outputs(_CONTESTED, main="alone")
    kept = (
        routed[_CONTESTED]
        | "ByRealPath" >> beam.GroupByKey()
        | "KeepFirstPath" >> beam.FlatMap(_keep_first).with_outputs(REJECTED, main="kept")
    )
    unique = (routed.alone, kept.kept) | "UniqueImages" >> beam.Flatten()
    rejects = (listed[REJECTED], kept[REJECTED]) | "WalkRejects" >> beam.Flatten()
    if layout.has_split_folders:
        split_of_subdir = {subdir: splits.index(split) for split, subdir in layout.split_dirs}
        images = unique | "SplitByFolder" >> beam.Map(lambda image: (image[1], image[2], split_of_subdir[image[0]]))
        return images, rejects
    hashed = unique | "SplitByHash" >> beam.Map(lambda image: (image[1], image[2], hash_split(image[1], hash_buckets)))
    short = (
        hashed
        | "ClassSplit" >> beam.Map(lambda image: ((image[1], image[2]), 1))
        | "CountClassSplit" >> beam.CombinePerKey(sum)
        | "ByClassCounts" >> beam.Map(lambda counted: (counted[0][0], (counted[0][1], counted[1])))
        | "GroupClassCounts" >> beam.GroupByKey()
        | "ShortClasses" >> beam.FlatMap(_short_classes, splits=len(hash_buckets))
    )
    routed_classes = hashed | "RouteByClass" >> beam.FlatMap(
        _route_by_class, short_classes=beam.pvalue.AsDict(short)
    ).with_outputs(_SHORT, main="hashed")
    fixed = (
        routed_classes[_SHORT]
        | "GroupShortClasses" >> beam.GroupByKey()
        | "FixUpSplits" >> beam.FlatMap(_assign_class_splits, hash_buckets=hash_buckets)
    )
    images = (routed_classes.hashed, fixed) | "Images" >> beam.Flatten()
    return images, rejects
