"""The run report's pictures at 2, 10 and 50 classes, opened in headless Chromium: thumbnails and
heatmaps are drawn, confusion-matrix labels never overlap (measured from the DOM), nothing is
fetched from anywhere, and the page stays under 5 MB."""
import dataclasses
import html as html_lib
import io
import json
import re
import subprocess

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageDraw

from components import features
from components.error_analysis.analysis import NO_PREDICTION, Mistakes
from components.error_analysis.analyze import Predictions, summarize
from components.error_analysis.options import AnalysisOptions
from components.label_balance.balance import analyze
from components.label_balance.gallery import write_gallery
from components.promotion_gate.gate import decision_record
from components.promotion_gate.tfma_metrics import CONFIDENCE_THRESHOLDS
from components.trainer.explain import Explainer
from components.trainer.model import build_model
from pipeline.run_record import RunArtifacts, RunRecord
from pipeline.run_report import render_run_report
from pipeline.summary import build_summary
from helpers import BROWSER_FLAGS, chromium

MAX_REPORT_BYTES = 5 * 1024 * 1024
TRAIN_PER_CLASS, EVAL_PER_CLASS = 5, 4


def class_names(n):
    # Long names on purpose: they must be cut, not run into each other.
    return [f"class {i:02d}" + (" with a rather long folder name" if i % 3 == 0 else "") for i in range(n)]


def image(label: int, seed: int) -> bytes:
    """A 48 x 40 PNG: a class-coloured ellipse on a noisy background."""
    rng = np.random.default_rng(seed)
    picture = Image.fromarray(rng.integers(0, 90, (40, 48, 3)).astype(np.uint8), "RGB")
    colour = tuple(int(v) for v in (40 + (label * 67) % 200, 40 + (label * 131) % 200, 40 + (label * 29) % 200))
    ImageDraw.Draw(picture).ellipse([8 + seed % 9, 6, 34 + seed % 9, 32], fill=colour)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def write_examples(path, rows):
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for label, name, data in rows:
            feature = {
                features.IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
                features.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                features.PATH_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[name.encode()])),
            }
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())


def matrices_at_thresholds(labels, probabilities):
    """What TFMA's confusion matrices at thresholds count: no answer below the threshold."""
    matrices = {}
    for threshold in CONFIDENCE_THRESHOLDS:
        matrix = {}
        for label, probs in zip(labels, probabilities):
            key = (int(label), int(probs.argmax()) if probs.max() >= threshold else NO_PREDICTION)
            matrix[key] = matrix.get(key, 0.0) + 1.0
        matrices[threshold] = matrix
    return matrices


def run_report(tmp_path, n_classes):
    """A real report page: the real gallery, error analysis, gate decision and summary, from images
    made here and an untrained model's predictions and Grad-CAM heatmaps."""
    names = class_names(n_classes)
    balance_dir, errors_dir = tmp_path / "balance", tmp_path / "errors"
    train = [(c, f"{names[c]}/train_{i}.png", image(c, 100 * c + i)) for c in range(n_classes) for i in range(TRAIN_PER_CLASS)]
    write_examples(tmp_path / "train.gz", train)
    balance = analyze(names, {"train": [TRAIN_PER_CLASS] * n_classes, "eval": [EVAL_PER_CLASS] * n_classes})
    balance = dataclasses.replace(
        balance,
        report_html=str(tmp_path / "data_report.html"),
        gallery=write_gallery(str(tmp_path / "train.gz"), names, str(balance_dir)),
    )

    rng = np.random.default_rng(n_classes)
    labels = np.repeat(np.arange(n_classes), EVAL_PER_CLASS)
    logits = rng.normal(size=(labels.size, n_classes)) + 2.0 * np.eye(n_classes)[labels]
    probabilities = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    images = [image(int(label), 7 + i) for i, label in enumerate(labels)]
    paths = [f"{names[label]}/eval_{i}.png" for i, label in enumerate(labels)]
    mistakes = Mistakes(AnalysisOptions().top_losses, AnalysisOptions().images_per_pair)
    mistakes.add(labels, probabilities, paths, images)
    explainer = Explainer(build_model("simple_cnn", (32, 32, 3), n_classes))

    def explain(batch):
        pixels = tf.cast(tf.image.resize(tf.stack([tf.io.decode_png(b, 3) for b in batch]), (32, 32)), tf.uint8)
        heatmaps, _ = explainer(pixels)
        return list(zip(pixels.numpy(), heatmaps.numpy()))

    errors = summarize(
        Predictions(labels, probabilities, mistakes),
        explain,
        names,
        str(errors_dir),
        AnalysisOptions(),
        matrices_at_thresholds(labels, probabilities),
    )
    confusion = {}
    for label, probs in zip(labels, probabilities):
        key = (int(label), int(probs.argmax()))
        confusion[key] = confusion.get(key, 0.0) + 1.0
    decision = decision_record(confusion, None, names, names[0], 1 / n_classes)
    artifacts = RunArtifacts(
        balance=balance,
        training=None,
        metrics={},
        decision=decision,
        blessed=decision.blessed,
        pushed_model=None,
        errors=errors,
        errors_uri=str(errors_dir),
        balance_uri=str(balance_dir),
    )
    summary = build_summary(RunRecord(run_id="report-test", nodes={}), artifacts, data_dir=None, report_html=None)
    return render_run_report(summary, artifacts, str(tmp_path / "run_summary.json")), summary


MEASURE = """<script>
const box = e => { const r = e.getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.width, r.height]; };
const all = selector => [...document.querySelectorAll(selector)];
const out = document.createElement('pre');
out.id = 'measure';
out.textContent = JSON.stringify({
  columns: all('svg.matrix text.column-label').map(box),
  rows: all('svg.matrix text.row-label').map(box),
  matrix: box(document.querySelector('svg.matrix')),
  images: all('.top-loss img').map(e => [...box(e), e.complete && e.naturalWidth > 0, e.alt]),
  thumbnails: all('img').length,
  height: document.documentElement.scrollHeight,
});
document.body.appendChild(out);
</script>"""

WIDTH = 1200


def browse(browser, tmp_path, page_path, *flags):
    result = subprocess.run(
        [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={WIDTH},{flags[0]}", *flags[1:], page_path.as_uri()],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return result.stdout.decode("utf-8", "replace")


def overlapping(boxes):
    """Pairs of boxes whose areas intersect (by more than half a pixel each way)."""
    pairs = []
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for j, (x2, y2, w2, h2) in enumerate(boxes[i + 1 :], i + 1):
            if min(x1 + w1, x2 + w2) - max(x1, x2) > 0.5 and min(y1 + h1, y2 + h2) - max(y1, y2) > 0.5:
                pairs.append((i, j))
    return pairs


@pytest.mark.parametrize("n_classes", [2, 10, 50])
def test_report_draws_images_and_keeps_matrix_labels_apart(tmp_path, n_classes):
    page, summary = run_report(tmp_path, n_classes)
    # One self-contained file: every image is inline, nothing is fetched, and it stays small.
    assert len(page.encode()) < MAX_REPORT_BYTES
    assert not re.search(r"<script|<link|@import|url\(", page, re.IGNORECASE)
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", page, re.IGNORECASE)
    assert len(summary["evaluation"]["top_losses"]) == min(16, n_classes * EVAL_PER_CLASS)
    assert sum(len(paths) for paths in summary["balance"]["gallery"].values()) == n_classes * 4

    browser = chromium()
    page_path = tmp_path / "report.html"
    page_path.write_text(page, encoding="utf-8")
    measured_path = tmp_path / "measured.html"
    measured_path.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = browse(browser, tmp_path, measured_path, 1000, "--virtual-time-budget=10000", "--dump-dom")
    found = re.search(r'<pre id="measure">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    measure = json.loads(html_lib.unescape(found.group(1)))

    # Every class has its column and row label, and no two labels share a pixel.
    assert len(measure["columns"]) == len(measure["rows"]) == n_classes
    assert overlapping(measure["columns"]) == [] and overlapping(measure["rows"]) == []
    # ... and none is cut off at the edge of the chart.
    left, top, width, height = measure["matrix"]
    for x, y, w, h in measure["columns"] + measure["rows"]:
        assert left - 0.5 <= x and x + w <= left + width + 0.5 and top - 0.5 <= y and y + h <= top + height + 0.5
    # Gallery (4 a class), top losses (2 each), confused pairs: all decoded by the browser.
    assert measure["thumbnails"] >= n_classes * 4 + 2 * len(summary["evaluation"]["top_losses"])
    assert measure["images"] and all(shown for *_, shown, _ in measure["images"])

    screenshot = tmp_path / "report.png"
    browse(browser, tmp_path, page_path, measure["height"], f"--screenshot={screenshot}")
    pixels = np.asarray(Image.open(screenshot).convert("RGB")).astype(int)
    heatmaps = 0
    for x, y, width, height, _, alt in measure["images"]:
        crop = pixels[int(y) + 2 : int(y + height) - 2, int(x) + 2 : int(x + width) - 2]
        assert crop.size and crop.std() > 8, f"{alt} is not drawn"  # not a blank box
        if alt.startswith("where the model looks"):
            heatmaps += 1
            colourful = (crop.max(axis=-1) - crop.min(axis=-1)).mean()
            assert colourful > 25, f"{alt}: no heatmap colours"
    assert heatmaps == len(summary["evaluation"]["top_losses"])
