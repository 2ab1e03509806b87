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

`build` makes the account written to `ingestion.json` (`contracts.ingestion.IngestionAccount`), and
`problem` says when it stops the run. `IngestionLimits` holds the ExampleGen's settings: the pixel limit, and the share of rejects that
stops the run.
"""
from __future__ import annotations

import dataclasses
import io
import re
from typing import Dict, List, Optional, Tuple

from components.contracts.ingestion import Conversion, FileReason, IngestionAccount
from components.image_example_gen.fingerprints import Fingerprint, fingerprint
from components.image_example_gen.options import IngestionLimits

SUPPORTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP")
_SHOWN_IN_ERROR = 5  # offenders the stop message names


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


def problem(account: IngestionAccount, ingestion_path: str) -> Optional[str]:
    """Why the run must stop after this ingestion, or None."""
    if account.files_seen == 0:
        return "The data dir's class folders hold no files; add images to them."
    rejected, seen = account.rejected, account.files_seen
    fraction = len(rejected) / seen
    if account.ingested and fraction <= account.max_rejected_fraction:
        return None
    offenders = "; ".join(f"{r.path}: {r.reason}" for r in rejected[:_SHOWN_IN_ERROR])
    more = len(rejected) - _SHOWN_IN_ERROR
    if more > 0:
        offenders += f"; and {more} more"
    if not account.ingested:
        head = f"None of the {seen} files could be ingested."
    else:
        head = (
            f"{len(rejected)} of {seen} files ({fraction:.1%}) were rejected, "
            f"over the {account.max_rejected_fraction:.1%} limit (--max-rejected-fraction)."
        )
    return f"{head} First: {offenders}. Every file and reason: {ingestion_path}"


def build(
    listing_rejects: List[Tuple[str, str]],
    candidates: int,
    file_rejects: List[Dict[str, str]],
    converted: List[Dict[str, str]],
    max_rejected_fraction: float,
    dropped: Optional[List[Dict[str, str]]] = None,
) -> IngestionAccount:
    """The account of one ingestion from the walk's rejects and the per-file outcomes ({path,
    reason} and {path, note} as the Beam job writes them)."""
    rejected = [FileReason(path, reason) for path, reason in listing_rejects] + [FileReason(**r) for r in file_rejects]
    dropped = sorted((FileReason(**d) for d in dropped or []), key=lambda d: d.path)
    files_seen = len(listing_rejects) + candidates
    return IngestionAccount(
        files_seen=files_seen,
        ingested=candidates - len(file_rejects) - len(dropped),
        rejected=sorted(rejected, key=lambda r: r.path),
        rejected_fraction=round(len(rejected) / files_seen, 4) if files_seen else 0.0,
        max_rejected_fraction=max_rejected_fraction,
        converted=sorted((Conversion(**c) for c in converted), key=lambda c: (c.path, c.note)),
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
