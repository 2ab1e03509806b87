"""What ExampleGen's cache key covers: the classes, every candidate's path, class, size and
modification time, and every reject, so a renamed or moved file re-runs ExampleGen (TFX's own
fingerprint of the input sees sizes and times but not names).

A local run walks the data dir once before any step (`preflight`, the check that every class
has images) and the ExampleGen driver reuses that walk's fingerprint (`fingerprint`), instead of
walking every folder again a few seconds later; the Beam job then reads the files themselves.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
from typing import Dict

from components.image_example_gen.inventory import Inventory, take_inventory
from components.image_example_gen.layout import DataLayout, check_every_class_has_images

# The fingerprint of this process's latest pre-flight walk, by layout: taken once by the driver.
_PREFLIGHT: Dict[DataLayout, str] = {}


def preflight(layout: DataLayout) -> Inventory:
    """Walks the data dir before a local run starts: raises DataLayoutError when a class has no
    image, and keeps the walk's fingerprint for this run's ExampleGen driver."""
    found = take_inventory(layout)
    check_every_class_has_images(layout, found)
    _PREFLIGHT[layout] = digest(layout, found)
    return found


def fingerprint(layout: DataLayout) -> str:
    """The digest of the data dir's listing: the pre-flight walk's for the run it preceded, else
    from a walk of its own (a Kubeflow or Vertex run, a second run in one process)."""
    cached = _PREFLIGHT.pop(layout, None)
    return cached if cached is not None else digest(layout, take_inventory(layout))


def digest(layout: DataLayout, inventory: Inventory) -> str:
    """Changes whenever the examples or the reject list would: a file added, removed, edited,
    renamed or moved to another class folder."""
    import tensorflow as tf

    hashed = hashlib.sha256(json.dumps(layout.class_names).encode("utf-8"))
    for images in inventory.candidates.values():
        for rel_path, class_name in images:
            stat = tf.io.gfile.stat(posixpath.join(layout.data_dir, rel_path))
            hashed.update(f"{rel_path}\0{class_name}\0{stat.length}\0{stat.mtime_nsec}\n".encode("utf-8"))
    for rel_path, reason in inventory.rejected:
        hashed.update(f"{rel_path}\0{reason}\n".encode("utf-8"))
    return hashed.hexdigest()
