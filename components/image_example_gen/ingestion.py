"""Per-file checks, and the account of one ingestion: every file seen, ingested or rejected.

An ingested file also gets its fingerprint (`fingerprints.py`), from the pixels the check decoded.

`inspect` decides whether one file's bytes become an example. A file is rejected when it is empty,
is not an image at all, is an image format the model cannot read (TIFF, WebP, ICO, ...), has more
pixels than `max_image_pixels` (a decompression bomb, or far more than a classifier needs), or
cannot be decoded by the very TensorFlow function the Transform graph uses (truncated or corrupt
files, and the rare variants TensorFlow does not read, such as 1-bit BMP). Unusual but readable
images are ingested unchanged, with a note saying what decoding will do to them: CMYK is converted
to RGB, 16-bit samples are reduced to 8 bits, transparency is dropped, an animated GIF gives its
first frame. Grayscale and palette images are simply expanded to RGB and get no note.

`Ingestion` is the account written to `ingestion.json`; `files_seen == ingested + len(rejected)`.
`IngestionLimits` holds the ExampleGen's settings: the pixel limit, and the share of rejects that
stops the run.
"""
from __future__ import annotations

import dataclasses
import io
import re
from typing import Dict, List, Optional, Tuple

from components.image_example_gen.fingerprints import Fingerprint, fingerprint
from components.options import require

SUPPORTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP")
_SHOWN_IN_ERROR = 5  # offenders the stop message names


@dataclasses.dataclass(frozen=True)
class IngestionLimits:
    """What the image ExampleGen accepts before it stops the run."""

    # 50 megapixels: a 48 MP phone photo still passes; larger images are rejected as decompression bombs.
    max_image_pixels: int = 50_000_000
    max_rejected_fraction: float = 0.05  # a larger share of rejected files stops the run
    # Keep one image of each group with the same decoded pixels and one class, listing the others
    # as dropped; a group spanning classes is kept whole (which label is right is for a person).
    drop_duplicates: bool = False

    def __post_init__(self):
        require(
            0.0 <= self.max_rejected_fraction <= 1.0,
            "{max_rejected_fraction} {value} must be between 0 and 1 (for example 0.05).",
            value=self.max_rejected_fraction,
        )
        require(self.max_image_pixels >= 1, "{max_image_pixels} {value} must be positive.", value=self.max_image_pixels)


class RejectedFilesError(ValueError):
    """Too large a share of the data dir was rejected; the message names the share and offenders."""


@dataclasses.dataclass(frozen=True)
class Inspection:
    """What one file is: its header fields when it can be ingested, else why not."""

    reason: Optional[str] = None  # set when the file is rejected
    image_format: str = ""
    width: int = 0
    height: int = 0
    notes: Tuple[str, ...] = ()  # what decoding will change, for an ingested file
    fingerprint: Optional[Fingerprint] = None  # of the decoded pixels, for an ingested file


def _error_message(error: Exception) -> str:
    """The line of an error's text that says what went wrong (the last one), without what differs
    from run to run: PIL names the in-memory file by its address (<_io.BytesIO object at 0x...>)."""
    text = str(error).strip().splitlines()
    message = text[-1] if text else type(error).__name__
    message = re.sub(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>", "", message)
    return message.split("]] ")[-1].strip()  # TensorFlow prefixes the op's name in {{...}}]]


def _notes(image, frames: int) -> Tuple[str, ...]:
    notes = []
    if frames > 1:
        notes.append(f"animated GIF with {frames} frames: the first frame is used")
    if image.mode == "CMYK":
        notes.append("CMYK: converted to RGB")
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        notes.append(f"{image.mode} samples: reduced to 8 bits")
    if "A" in image.mode or "transparency" in image.info:
        notes.append("transparency is dropped: transparent pixels show their stored colour")
    return tuple(notes)


def inspect(
    image_bytes: bytes, max_image_pixels: int = IngestionLimits.max_image_pixels, with_fingerprint: bool = True
) -> Inspection:
    """Checks one file's bytes the way ExampleGen does before writing it as an example; with
    `with_fingerprint`, also measures the pixels it decoded (what the data quality checks use)."""
    if not image_bytes:
        return Inspection(reason="empty file (0 bytes); remove it or export the image again")
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # the size check below is ours, with our own limit and message
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            image_format, width, height = image.format, image.width, image.height
            frames = getattr(image, "n_frames", 1)
            notes = _notes(image, frames)
    except Exception as error:  # noqa: BLE001 - PIL raises many types for a bad file
        return Inspection(
            reason=f"not a readable image ({_error_message(error)}); the file is damaged or not a "
            f"{'/'.join(SUPPORTED_FORMATS)} image: export it again or remove it"
        )
    if image_format not in SUPPORTED_FORMATS:
        return Inspection(
            reason=f"{image_format} image: the model reads {', '.join(SUPPORTED_FORMATS)} only; convert it to PNG"
        )
    if width * height > max_image_pixels:
        return Inspection(
            reason=f"{width} x {height} = {width * height:,} pixels, over the limit of {max_image_pixels:,} "
            "(--max-image-pixels): a decompression bomb, or far larger than a classifier needs; downscale it"
        )
    import tensorflow as tf

    from components.transform.preprocessing import decode_rgb

    try:
        pixels = decode_rgb(tf.constant(image_bytes)).numpy()
    except tf.errors.OpError as error:
        return Inspection(
            reason=f"cannot be decoded ({_error_message(error)}): the file is truncated or corrupt, or a "
            f"{image_format} variant TensorFlow does not read; save it again as 8-bit PNG or JPEG"
        )
    return Inspection(
        image_format=image_format.lower(),
        width=width,
        height=height,
        notes=notes,
        fingerprint=fingerprint(pixels) if with_fingerprint else None,
    )


@dataclasses.dataclass
class Ingestion:
    files_seen: int
    ingested: int
    rejected: List[Dict[str, str]]  # {"path", "reason"}, sorted by path
    converted: List[Dict[str, str]]  # {"path", "note"}: ingested, with what decoding changes
    max_rejected_fraction: float
    dropped: List[Dict[str, str]] = dataclasses.field(default_factory=list)  # {"path", "reason"}: --drop-duplicates

    def __post_init__(self):
        if self.files_seen != self.ingested + len(self.rejected) + len(self.dropped):
            raise AssertionError(
                f"Ingestion lost count: {self.files_seen} files seen, {self.ingested} ingested, "
                f"{len(self.rejected)} rejected, {len(self.dropped)} dropped."
            )

    @property
    def rejected_fraction(self) -> float:
        return len(self.rejected) / self.files_seen if self.files_seen else 0.0

    def to_json(self) -> Dict:
        return {
            "files_seen": self.files_seen,
            "ingested": self.ingested,
            "rejected": self.rejected,
            "rejected_fraction": round(self.rejected_fraction, 4),
            "max_rejected_fraction": self.max_rejected_fraction,
            "converted": self.converted,
            "dropped": self.dropped,
        }

    def problem(self, ingestion_path: str) -> Optional[str]:
        """Why the run must stop here, or None."""
        if self.files_seen == 0:
            return "The data dir's class folders hold no files; add images to them."
        if self.ingested and self.rejected_fraction <= self.max_rejected_fraction:
            return None
        offenders = "; ".join(f"{r['path']}: {r['reason']}" for r in self.rejected[:_SHOWN_IN_ERROR])
        more = len(self.rejected) - _SHOWN_IN_ERROR
        if more > 0:
            offenders += f"; and {more} more"
        if not self.ingested:
            head = f"None of the {self.files_seen} files could be ingested."
        else:
            head = (
                f"{len(self.rejected)} of {self.files_seen} files ({self.rejected_fraction:.1%}) were rejected, "
                f"over the {self.max_rejected_fraction:.1%} limit (--max-rejected-fraction)."
            )
        return f"{head} First: {offenders}. Every file and reason: {ingestion_path}"


def build(
    listing_rejects: List[Tuple[str, str]],
    candidates: int,
    file_rejects: List[Dict[str, str]],
    converted: List[Dict[str, str]],
    max_rejected_fraction: float,
    dropped: Optional[List[Dict[str, str]]] = None,
) -> Ingestion:
    """The account of one ingestion from the walk's rejects and the per-file outcomes."""
    rejected = [{"path": path, "reason": reason} for path, reason in listing_rejects] + list(file_rejects)
    dropped = sorted(dropped or [], key=lambda d: d["path"])
    return Ingestion(
        files_seen=len(listing_rejects) + candidates,
        ingested=candidates - len(file_rejects) - len(dropped),
        rejected=sorted(rejected, key=lambda r: r["path"]),
        converted=sorted(converted, key=lambda c: (c["path"], c["note"])),
        max_rejected_fraction=max_rejected_fraction,
        dropped=dropped,
    )


def duplicates_to_drop(members: List[Tuple[str, str, str]]) -> List[Dict[str, str]]:
    """Of (path, class, split) images with the same pixels, the ones --drop-duplicates drops: all
    but one when they share a class, keeping a train image first, then the first path; none when
    they span classes."""
    if len({cls for _, cls, _ in members}) > 1:
        return []
    kept, *others = sorted(members, key=lambda m: (m[2] != "train", m[0]))
    return [
        {"path": path, "reason": f"exact duplicate of {kept[0]} (the same decoded pixels; --drop-duplicates keeps one)"}
        for path, _, _ in sorted(others)
    ]
