"""ingestion.json: every file the image ExampleGen saw, ingested or rejected with its reason."""
from __future__ import annotations

import dataclasses
from typing import List

from components.artifacts import INGESTION_FILE
from components.contracts.record import Record


LABEL_ISSUE_REASON = "label issue"  # how the reason of a file dropped by --drop-label-issues starts


@dataclasses.dataclass(frozen=True)
class FileReason(Record):
    """A file not ingested (rejected, or dropped by --drop-duplicates or --drop-label-issues), with why."""

    path: str  # relative to the data dir
    reason: str


@dataclasses.dataclass(frozen=True)
class Conversion(Record):
    """An ingested file that decoding changes (CMYK, 16-bit, transparency, animation)."""

    path: str
    note: str


@dataclasses.dataclass(frozen=True)
class IngestionAccount(Record):
    """The account of one ingestion: `files_seen == ingested + len(rejected) + len(dropped)`."""

    FILE = INGESTION_FILE

    files_seen: int
    ingested: int
    rejected: List[FileReason]  # sorted by path
    rejected_fraction: float  # len(rejected) / files_seen, rounded to 4 places
    max_rejected_fraction: float
    converted: List[Conversion]  # sorted by path
    # --drop-duplicates (ExampleGen) and --drop-label-issues (DropLabelIssues, which writes the
    # account again with its own), sorted by path
    dropped: List[FileReason] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        if self.files_seen != self.ingested + len(self.rejected) + len(self.dropped):
            raise AssertionError(
                f"Ingestion lost count: {self.files_seen} files seen, {self.ingested} ingested, "
                f"{len(self.rejected)} rejected, {len(self.dropped)} dropped."
            )
