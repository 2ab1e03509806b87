"""--drop-label-issues: which images leave the examples, and the ingestion account that lists them.
Pure functions, no Beam."""
from __future__ import annotations

import dataclasses
from typing import Dict

from components.contracts.ingestion import LABEL_ISSUE_REASON, FileReason, IngestionAccount
from components.contracts.quality import QualityRecord


def label_issues_to_drop(quality: QualityRecord) -> Dict[str, str]:
    """path -> the reason it is dropped, for every label issue DataQuality listed."""
    return {
        issue.path: (
            f"{LABEL_ISSUE_REASON}: filed as {issue.class_name}, looks like {issue.suggested} "
            f"(score {issue.score:.3f}; --drop-label-issues)"
        )
        for issue in quality.label_issues
    }


def account_after_dropping(account: IngestionAccount, dropped: Dict[str, str]) -> IngestionAccount:
    """ExampleGen's account with `dropped` ({path: reason}, all of them ingested) moved from
    ingested to dropped: every file is still counted once."""
    listed = sorted(account.dropped + [FileReason(path, reason) for path, reason in dropped.items()], key=lambda d: d.path)
    return dataclasses.replace(account, ingested=account.ingested - len(dropped), dropped=listed)
