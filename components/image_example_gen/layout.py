"""How a data dir is laid out, its classes, and which split each image goes to. No Beam, no TFX.

Two layouts are accepted for training, and one for prediction:

* class folders: ``<data_dir>/<class>/<image>``; the pipeline splits train/eval by a hash of the path.
* split folders: ``<data_dir>/train/<class>/<image>`` and ``<data_dir>/eval/<class>/<image>``
  (``val/`` or ``validation/`` also name the eval split).
* unlabelled (batch prediction): every image file under ``<data_dir>``, flat or in sub-folders of
  any depth, which carry no meaning.

Class indices follow the sorted class names over all splits. A data dir may be a ``gs://`` URI.
The image files themselves are found by `inventory`'s walk, which also says which entries are
rejected and why.
"""
from __future__ import annotations

import bisect
import collections
import dataclasses
import hashlib
import itertools
import posixpath
from typing import Dict, List, Sequence, Tuple

from components import features
from components.image_example_gen import inventory

SPLIT_FOLDER_NAMES = {
    features.TRAIN_SPLIT: ("train",),
    features.EVAL_SPLIT: ("eval", "val", "validation"),
}


class DataLayoutError(ValueError):
    """The data dir cannot be read as image folders; the message says what to change."""


@dataclasses.dataclass(frozen=True)
class DataLayout:
    data_dir: str
    split_dirs: Tuple[Tuple[str, str], ...]  # (split name, sub-folder); empty for class folders
    class_names: Tuple[str, ...]
    unlabelled: bool = False  # images to classify: no classes, one split

    @property
    def has_split_folders(self) -> bool:
        return bool(self.split_dirs)

    def class_roots(self) -> Dict[str, str]:
        """Sub-folder ('' for the data dir itself) -> the folder holding its class folders."""
        subdirs = [subdir for _, subdir in self.split_dirs] or [""]
        return {subdir: posixpath.join(self.data_dir, subdir) if subdir else self.data_dir for subdir in subdirs}


def detect_layout(data_dir: str) -> DataLayout:
    """Reads the folder structure of `data_dir`; raises DataLayoutError naming the problem."""
    data_dir = data_dir.rstrip("/") or "/"
    if not inventory.is_folder(data_dir):
        raise DataLayoutError(
            f"Data dir {data_dir} does not exist or is not a folder. Point --data-dir at a folder "
            "with one sub-folder of images per class."
        )
    top = inventory.class_folders(data_dir)
    split_dirs = []
    for split, candidates in SPLIT_FOLDER_NAMES.items():
        found = [name for name in candidates if name in top]
        if len(found) > 1:
            raise DataLayoutError(
                f"Data dir {data_dir} has both {found[0]}/ and {found[1]}/ for the {split} split: keep one."
            )
        if found:
            split_dirs.append((split, found[0]))
    if len(split_dirs) == 1:
        (split, subdir), = split_dirs
        other = [s for s in SPLIT_FOLDER_NAMES if s != split][0]
        raise DataLayoutError(
            f"Data dir {data_dir} has a {subdir}/ folder but no {other} folder "
            f"({', '.join(n + '/' for n in SPLIT_FOLDER_NAMES[other])}). Add it, or put the class "
            "folders directly in the data dir to have the pipeline split them."
        )
    class_roots = [posixpath.join(data_dir, subdir) for _, subdir in split_dirs] or [data_dir]
    class_names = sorted({name for root in class_roots for name in inventory.class_folders(root)})
    if len(class_names) < 2:
        where = " and ".join(class_roots)
        raise DataLayoutError(
            f"Found {len(class_names)} class folder(s) in {where}: a classifier needs at least two. "
            "Put each class's images in a sub-folder named after the class."
        )
    return DataLayout(data_dir=data_dir, split_dirs=tuple(split_dirs), class_names=tuple(class_names))


def unlabelled_layout(data_dir: str) -> DataLayout:
    """`data_dir` as images to classify (`unlabelled`); raises DataLayoutError when it is no folder."""
    data_dir = data_dir.rstrip("/") or "/"
    if not inventory.is_folder(data_dir):
        raise DataLayoutError(f"Image folder {data_dir} does not exist or is not a folder.")
    return DataLayout(data_dir=data_dir, split_dirs=(), class_names=(), unlabelled=True)


def _bucket(rel_path: str, total_buckets: int) -> int:
    # TFX's ExampleGen hash (of the serialized path feature), so splits match its partition_feature_name split.
    from tensorflow.core.example import feature_pb2

    feature = feature_pb2.Feature(bytes_list=feature_pb2.BytesList(value=[rel_path.encode("utf-8")]))
    return int(hashlib.sha256(feature.SerializeToString(deterministic=True)).hexdigest(), 16) % total_buckets


def hash_split(rel_path: str, hash_buckets: Sequence[int]) -> int:
    """The split index (into `hash_buckets`' order) a file's path hashes to."""
    return bisect.bisect(list(itertools.accumulate(hash_buckets)), _bucket(rel_path, sum(hash_buckets)))


def split_assignment(images: Sequence[Tuple[str, str]], hash_buckets: Sequence[int]) -> Dict[str, int]:
    """Split index per image path: by hash of the path, then fixed up so every class with at least
    as many images as there are splits has an image in each split.

    A class of ten images at a 20% eval share gets no eval image one time in nine by hash alone; it
    then could be neither measured nor compared. The fix-up moves the fewest files it can (one per
    empty split, from the split with most of that class, lowest hash first), so a file keeps its
    split when others are added unless its class was short of a split.
    """
    by_class: Dict[str, List[str]] = {}
    for rel_path, class_name in images:
        by_class.setdefault(class_name, []).append(rel_path)
    assignment = {}
    for paths in by_class.values():
        splits = {path: hash_split(path, hash_buckets) for path in paths}
        if len(paths) >= len(hash_buckets):
            for missing in range(len(hash_buckets)):
                if missing in splits.values():
                    continue
                counts = collections.Counter(splits.values())
                largest = max(counts, key=lambda index: (counts[index], -index))
                donor = min((p for p in paths if splits[p] == largest), key=lambda p: hashlib.sha256(p.encode()).digest())
                splits[donor] = missing
        assignment.update(splits)
    return assignment


def check_every_class_has_images(layout: DataLayout, listing: "inventory.Inventory") -> None:
    """Raises DataLayoutError when a class cannot have images in both train and eval.

    Read from file names only (before any image is decoded), so the run stops before any work.
    """
    problems = []
    if layout.has_split_folders:
        for split, subdir in layout.split_dirs:
            present = {class_name for _, class_name in listing.candidates[subdir]}
            for class_name in layout.class_names:
                if class_name not in present:
                    problems.append(f"{subdir}/{class_name}/ has no image files")
        fix = "Put images of every class in both split folders, or remove the class."
    else:
        counts = collections.Counter(class_name for _, class_name in listing.candidates[""])
        for class_name in layout.class_names:
            if counts[class_name] < 2:
                problems.append(f"{class_name}/ has {counts[class_name] or 'no'} image file{'' if counts[class_name] == 1 else 's'}")
        fix = "A class needs at least 2 images, one to train on and one to evaluate: add images or remove the folder."
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise DataLayoutError(f"In {layout.data_dir}: {shown}. {fix}")
