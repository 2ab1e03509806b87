"""What is in a data dir: its layout, its classes and its image files. No Beam, no TFX.

Two layouts are accepted:

* class folders: ``<data_dir>/<class>/<image>``; the pipeline splits train/eval by a hash of the path.
* split folders: ``<data_dir>/train/<class>/<image>`` and ``<data_dir>/eval/<class>/<image>``
  (``val/`` or ``validation/`` also name the eval split).

Class indices follow the sorted class names over all splits. Paths go through tf.io.gfile, so a
data dir may be a ``gs://`` URI.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import posixpath
from typing import Dict, List, Tuple

import tensorflow as tf

from components import features

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
SPLIT_FOLDER_NAMES = {
    features.TRAIN_SPLIT: ("train",),
    features.EVAL_SPLIT: ("eval", "val", "validation"),
}
# ExampleGen's input split name when the data dir has class folders only (then hashed into splits).
SINGLE_SPLIT = "single_split"


class DataLayoutError(ValueError):
    """The data dir cannot be read as image folders; the message says what to change."""


def _subdirs(path: str) -> List[str]:
    return sorted(
        name.rstrip("/")
        for name in tf.io.gfile.listdir(path)
        if not name.startswith(".") and tf.io.gfile.isdir(posixpath.join(path, name.rstrip("/")))
    )


def split_pattern(subdir: str) -> str:
    """The ExampleGen input pattern for the class folders under `subdir` ('' for the data dir)."""
    return f"{subdir}/*/*" if subdir else "*/*"


def pattern_subdir(pattern: str) -> str:
    """Inverse of `split_pattern`."""
    if not pattern.endswith("*/*"):
        raise ValueError(f"Unexpected split pattern {pattern!r}: expected '<subdir>/*/*' or '*/*'.")
    return pattern[: -len("*/*")].rstrip("/")


@dataclasses.dataclass(frozen=True)
class DataLayout:
    data_dir: str
    split_dirs: Tuple[Tuple[str, str], ...]  # (split name, sub-folder); empty for class folders
    class_names: Tuple[str, ...]

    @property
    def has_split_folders(self) -> bool:
        return bool(self.split_dirs)

    def input_patterns(self) -> Dict[str, str]:
        """ExampleGen input split name -> pattern relative to the data dir."""
        if not self.split_dirs:
            return {SINGLE_SPLIT: split_pattern("")}
        return {split: split_pattern(subdir) for split, subdir in self.split_dirs}

    def list_images(self, pattern: str) -> List[Tuple[str, str]]:
        """(path relative to the data dir, class name) of every image under one input pattern."""
        subdir = pattern_subdir(pattern)
        root = posixpath.join(self.data_dir, subdir) if subdir else self.data_dir
        images = []
        for class_name in self.class_names:
            class_dir = posixpath.join(root, class_name)
            if not tf.io.gfile.isdir(class_dir):
                continue  # this class has no folder in this split
            for dirpath, _, filenames in tf.io.gfile.walk(class_dir):
                rel_dir = posixpath.relpath(dirpath.rstrip("/"), self.data_dir)
                for filename in sorted(filenames):
                    if filename.startswith(".") or not filename.lower().endswith(IMAGE_EXTENSIONS):
                        continue
                    images.append((posixpath.join(rel_dir, filename), class_name))
        # Sorted, so the listing (and the fingerprint over it) does not depend on walk order.
        return sorted(images)

    def fingerprint(self) -> str:
        """A digest of the classes and of every image's path, class, size and modification time.

        Changes whenever the examples would: an image added, removed, edited, renamed or moved to
        another class folder (TFX's own fingerprint sees sizes and times but not names).
        """
        digest = hashlib.sha256(json.dumps(self.class_names).encode("utf-8"))
        for pattern in self.input_patterns().values():
            for rel_path, class_name in self.list_images(pattern):
                stat = tf.io.gfile.stat(posixpath.join(self.data_dir, rel_path))
                digest.update(f"{rel_path}\0{class_name}\0{stat.length}\0{stat.mtime_nsec}\n".encode("utf-8"))
        return digest.hexdigest()


def detect_layout(data_dir: str) -> DataLayout:
    """Reads the folder structure of `data_dir`; raises DataLayoutError naming the problem."""
    data_dir = data_dir.rstrip("/") or "/"
    if not tf.io.gfile.isdir(data_dir):
        raise DataLayoutError(
            f"Data dir {data_dir} does not exist or is not a folder. Point --data-dir at a folder "
            "with one sub-folder of images per class."
        )
    top = _subdirs(data_dir)
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
    class_names = sorted({name for root in class_roots for name in _subdirs(root)})
    if len(class_names) < 2:
        where = " and ".join(class_roots)
        raise DataLayoutError(
            f"Found {len(class_names)} class folder(s) in {where}: a classifier needs at least two. "
            "Put each class's images in a sub-folder named after the class."
        )
    return DataLayout(data_dir=data_dir, split_dirs=tuple(split_dirs), class_names=tuple(class_names))
