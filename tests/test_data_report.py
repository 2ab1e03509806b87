"""The data report opens offline and its charts are really drawn (checked in headless Chromium)."""
import dataclasses
import re
import subprocess

import numpy as np
from PIL import Image

from components.contracts.balance import ImageSummary, SizeRange
from components.label_balance.balance import analyze
from components.label_balance.report import render_data_report
from components.reporting.html import BAR_COLOUR, HIGHLIGHT_COLOUR
from helpers import BROWSER_FLAGS, chromium

CLASSES = ["cat", "dog", "<owl & co>"]


def sample_report():
    report = analyze(CLASSES, {"train": [120, 30, 10], "eval": [30, 8, 0]})
    return dataclasses.replace(
        report,
        images={
            "train": ImageSummary({"png": 150, "jpeg": 10}, SizeRange(20, 31.5, 64), None),
            "eval": ImageSummary({"png": 38}, None, None),
        },
        anomalies={"train": [], "eval": ["image_format: Unexpected string values"]},
    )


def test_report_is_self_contained_and_says_the_verdict(tmp_path):
    page = render_data_report(sample_report(), "160 images")
    # Nothing is fetched: no scripts, stylesheets, images or fonts from anywhere.
    assert not re.search(r"<script|<link|<img|src=|href=|url\(|@import", page, re.IGNORECASE)
    assert "Labels are severely imbalanced: &#x27;cat&#x27; is 75.0% of train images" in page
    assert "No eval images for: &lt;owl &amp; co&gt;." in page  # class names are escaped
    assert page.count("<svg") == 2  # one chart per split
    assert "image_format: Unexpected string values" in page and "png 150" in page


def colour_mask(image: np.ndarray, hex_colour: str) -> np.ndarray:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return np.abs(image[..., :3].astype(int) - rgb).sum(axis=-1) < 30


def test_charts_are_drawn_when_opened_in_chromium(tmp_path):
    browser = chromium()
    report_path = tmp_path / "report.html"
    report_path.write_text(render_data_report(sample_report(), "160 images"), encoding="utf-8")
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [
            browser,
            *BROWSER_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1100,1400",
            f"--screenshot={screenshot}",
            report_path.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = np.asarray(Image.open(screenshot).convert("RGB"))
    majority, others = colour_mask(image, HIGHLIGHT_COLOUR), colour_mask(image, BAR_COLOUR)
    # Two majority bars (train and eval) and three other bars drawn. (The severe verdict's red
    # border alone is about 700 pixels; the bars add several thousand.)
    assert majority.sum() > 3000 and others.sum() > 300
    # The majority bar is drawn longest: it holds the widest run of bar colour in any pixel row.
    widest = lambda mask: max(int(row.sum()) for row in mask)  # noqa: E731
    assert widest(majority) > 2 * widest(others)


def test_the_report_lists_every_rejected_file_with_its_reason(tmp_path):
    from components.image_example_gen.ingestion import build

    rejects = [{"path": f"cat/bad-{i:03d}.png", "reason": "empty file (0 bytes)"} for i in range(205)]
    rejects.append({"path": "a/<script>.png", "reason": "not a readable image"})
    account = build([("a/notes.txt", ".txt: not an image type")], 300, rejects, [], 0.05)
    page = render_data_report(dataclasses.replace(sample_report(), ingestion=account), "160 images")
    assert "301 files seen: 94 ingested, 207 rejected (68.8%; the run stops above 5.0%" in page
    assert "<td>a/notes.txt</td><td>.txt: not an image type</td>" in page and '<table class="text">' in page
    assert "a/&lt;script&gt;.png" in page and "<script" not in page
    # The page shows the first 200 by path; the rest are counted, and all are in ingestion.json.
    assert page.count("empty file (0 bytes)") == 198 and "... and 7 more rejected files" in page
