"""A few example images per class, so a person sees what each label means (the data report).

The choice is deterministic and spread over each class folder: per class, the images whose path
has the smallest MD5 digest, not the first files in name order (often one burst of one camera).
One streaming pass over the split; memory holds `per_class` images per class.
"""
from __future__ import annotations

import hashlib
import heapq
import posixpath
from typing import Callable, Dict, List, Optional, Sequence

import tensorflow as tf

from components import artifacts
from components.contracts.balance import GalleryImage
from components.reporting import html
from components.reporting.images import img, thumbnail

GALLERY_DIR = "gallery"
PER_CLASS = 4


def pick(file_pattern: str, num_classes: int, per_class: int = PER_CLASS) -> Dict[int, List[tuple]]:
    """{label: [(path, image bytes)]}, at most `per_class` each, in digest order."""
    kept: Dict[int, list] = {label: [] for label in range(num_classes)}
    for batch in artifacts.image_example_batches(file_pattern):
        for label, path, image in zip(batch.labels, batch.paths, batch.images):
            heap = kept.setdefault(int(label), [])
            # Negated digest: the heap's smallest is the largest digest, the first to go.
            item = (-int.from_bytes(hashlib.md5(path.encode("utf-8")).digest()[:8], "big"), path, image)
            if len(heap) < per_class:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
    return {label: [(path, image) for _, path, image in sorted(heap, reverse=True)] for label, heap in kept.items()}


def write_gallery(
    file_pattern: str, class_names: Sequence[str], out_dir: str, per_class: int = PER_CLASS
) -> Dict[str, List[GalleryImage]]:
    """Thumbnails of `pick`'s images written to `out_dir`/gallery/; {class: [GalleryImage]},
    thumbnail relative to `out_dir` (None for an image that could not be read)."""
    tf.io.gfile.makedirs(posixpath.join(out_dir, GALLERY_DIR))
    gallery = {}
    for label, chosen in sorted(pick(file_pattern, len(class_names), per_class).items()):
        if label >= len(class_names):
            continue
        entries = []
        for j, (path, image) in enumerate(chosen):
            jpeg, relative = thumbnail(image), None
            if jpeg:
                relative = posixpath.join(GALLERY_DIR, f"{label}_{j}.jpg")
                artifacts.write_bytes(out_dir, relative, jpeg)
            entries.append(GalleryImage(path=path, thumbnail=relative))
        gallery[class_names[label]] = entries
    return gallery


def gallery_html(gallery: Dict[str, List[GalleryImage]], read: Callable[[Optional[str]], Optional[bytes]]) -> str:
    """One row per class: its name and its example thumbnails (each path on hover)."""
    cards = []
    for name, entries in gallery.items():
        pictures = "".join(img(read(e.thumbnail), e.path, e.path) for e in entries) or "no train images"
        cards.append(
            f'<figure class="class-card"><div class="pair">{pictures}</div>'
            f"<figcaption><b>{html.escape(name)}</b></figcaption></figure>"
        )
    return (
        "<p>A few train images per class, chosen by a hash of their path (the same ones every run; each "
        "path on hover). A class whose images look like another class, or like nothing, is worth a look "
        f'at its folder.</p><div class="gallery">{"".join(cards)}</div>'
    )
