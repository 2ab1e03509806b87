"""The walk of the data dir on Beam's workers: a class folder per element, no list of files.

`ListImages` takes the class folders (`inventory.plan_listing`) and yields, for every image file
under them, (path relative to the data dir, class, split index), and every entry the walk rejects
as {path, reason}. It does what `inventory.take_inventory` does in one process: each folder is
walked by `inventory.list_class_folder` on a worker, a file reached by two paths (symbolic links)
is kept once by a group on its real path (`inventory.keep_first`), and with class folders the
split is `layout.split_assignment` over each whole class, whose fix-up needs all its images.
"""
from __future__ import annotations

from typing import List

import apache_beam as beam

from components.image_example_gen import inventory
from components.image_example_gen.layout import DataLayout, split_assignment

REJECTED = "rejected"


class _ListClassFolder(beam.DoFn):
    """A class folder -> (real path, (folder, candidate)) for every image file under it, and its
    rejects on REJECTED: the walk of `inventory`, run where the folder is read."""

    def __init__(self, data_dir: str):
        self._data_dir = data_dir

    def process(self, folder: inventory.ClassFolder):
        images, rejected = inventory.list_class_folder(self._data_dir, folder)
        for path, reason in rejected:
            yield beam.pvalue.TaggedOutput(REJECTED, {"path": path, "reason": reason})
        for candidate in images:
            yield candidate.real_path, (folder, candidate)


def _keep_first(grouped):
    """(real path, [(folder, candidate)]) -> the one candidate read, and the other paths rejected."""
    _, paths = grouped
    (folder, first), duplicates = inventory.keep_first(list(paths))
    for path, reason in duplicates:
        yield beam.pvalue.TaggedOutput(REJECTED, {"path": path, "reason": reason})
    yield folder.subdir, first.rel_path, first.class_name


def _assign_class_splits(grouped, hash_buckets: List[int]):
    """(class, [rel_path]) -> (rel_path, class, split index): `layout.split_assignment` for the
    whole class at once, since its fix-up looks at every image of the class."""
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
    kept = (
        listed.candidates
        | "ByRealPath" >> beam.GroupByKey()  # a file reached by two paths (symbolic links) is read once
        | "KeepFirstPath" >> beam.FlatMap(_keep_first).with_outputs(REJECTED, main="kept")
    )
    if layout.has_split_folders:
        split_of_subdir = {subdir: splits.index(split) for split, subdir in layout.split_dirs}
        images = kept.kept | "SplitByFolder" >> beam.Map(lambda image: (image[1], image[2], split_of_subdir[image[0]]))
    else:
        images = (
            kept.kept
            | "ByClass" >> beam.Map(lambda image: (image[2], image[1]))
            | "GroupByClass" >> beam.GroupByKey()
            | "SplitByHash" >> beam.FlatMap(_assign_class_splits, hash_buckets=hash_buckets)
        )
    rejects = (listed[REJECTED], kept[REJECTED]) | "WalkRejects" >> beam.Flatten()
    return images, rejects
