"""The ErrorAnalysis step in a real run on the sample: its figures agree with the model itself,
with scikit-learn and with TFMA, and the report, the summary and the console say the same."""
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import average_precision_score

from components import features
from components.error_analysis.analysis import losses
from pipeline.config import REPO_ROOT
from helpers import eval_examples

PREDICT = str(REPO_ROOT / "pipeline" / "predict.py")


@pytest.fixture(scope="module")
def eval_predictions(first_run):
    """(paths, labels, probabilities) of the eval split, straight from the pushed model."""
    _, output_dir, summary, _ = first_run
    serialized = eval_examples(output_dir)
    parsed = [tf.train.Example.FromString(s).features.feature for s in serialized]
    paths = [f[features.PATH_KEY].bytes_list.value[0].decode() for f in parsed]
    labels = np.array([f[features.LABEL_KEY].int64_list.value[0] for f in parsed])
    model = tf.saved_model.load(summary["pushed_model"])
    probabilities = model.signatures[features.SERVING_SIGNATURE](examples=tf.constant(serialized))
    return paths, labels, probabilities[features.PROBABILITIES_OUTPUT].numpy()


@pytest.mark.e2e
def test_top_losses_are_the_true_top_losses_of_the_eval_split(first_run, eval_predictions):
    _, _, summary, stdout = first_run
    paths, labels, probabilities = eval_predictions
    direct = dict(zip(paths, losses(labels, probabilities)))
    top = summary["evaluation"]["top_losses"]
    assert len(top) == 16
    # Each listed image's loss is its loss under the model, the list is the 16 highest, in order.
    for item in top:
        assert item["loss"] == pytest.approx(direct[item["path"]], rel=1e-4, abs=1e-6)
        names = summary["data"]["class_names"]
        assert item["actual"] == names[labels[paths.index(item["path"])]]
        assert item["predicted"] == names[probabilities[paths.index(item["path"])].argmax()]
        assert os.path.getsize(item["thumbnail"]) > 300 and os.path.getsize(item["heatmap"]) > 300
    np.testing.assert_allclose([t["loss"] for t in top], sorted(direct.values(), reverse=True)[:16], rtol=1e-4, atol=1e-6)
    assert f"Highest loss: {top[0]['path']}" in stdout


@pytest.mark.e2e
def test_average_precision_matches_scikit_learn_and_thresholds_come_from_tfma(first_run, eval_predictions):
    import tensorflow_model_analysis as tfma

    _, output_dir, summary, _ = first_run
    _, labels, probabilities = eval_predictions
    evaluation = summary["evaluation"]
    for index, name in enumerate(summary["data"]["class_names"]):
        expected = average_precision_score(labels == index, probabilities[:, index])
        assert evaluation["average_precision"][name] == pytest.approx(expected, abs=1e-6)
    # The threshold table is TFMA's: tfma.load_eval_result shows the same matrices.
    (run_dir,) = glob.glob(os.path.join(str(output_dir), "pipeline_root", "Evaluator", "evaluation", "*"))
    metrics = tfma.load_eval_result(run_dir).slicing_metrics[0][1][""][""]
    matrices = metrics["confusion_matrices_at_confidence_thresholds"]["multiClassConfusionMatrixAtThresholds"]["matrices"]
    assert [round(m["threshold"], 1) for m in matrices] == [row["threshold"] for row in evaluation["thresholds"]]
    for matrix, row in zip(matrices, evaluation["thresholds"]):
        confident = probabilities.max(axis=1) >= matrix["threshold"]
        assert row["answered"] == pytest.approx(confident.mean(), abs=1e-6)
    assert 0.0 <= evaluation["expected_calibration_error"] <= 1.0


@pytest.mark.e2e
def test_report_shows_the_mistakes_gallery_and_heatmaps(first_run):
    _, _, summary, _ = first_run
    with open(summary["report_html"], encoding="utf-8") as f:
        page = f.read()
    assert "<h2>Mistakes</h2>" in page and "<h2>Class gallery</h2>" in page
    assert page.count('class="top-loss"') == 16
    assert page.count("data:image/jpeg;base64,") >= 16 * 2 + 10 * 4  # top losses + heatmaps + gallery
    assert sum(len(paths) for paths in summary["balance"]["gallery"].values()) == 10 * 4
    doubted = len(summary["data_quality"]["label_issues"])  # the "Possibly mislabelled" gallery's
    with open(summary["balance"]["report_html"], encoding="utf-8") as f:
        assert f.read().count("data:image/jpeg;base64,") == 10 * 4 + doubted  # the data report has the gallery too


@pytest.mark.e2e
def test_predict_explain_writes_a_heatmap_beside_each_prediction(first_run, tmp_path):
    sample_dir, output_dir, _, _ = first_run
    images = [sorted((sample_dir / name).glob("*.png"))[0] for name in ("zero", "seven")]
    result = subprocess.run(
        [sys.executable, PREDICT, "--output-dir", str(output_dir), "--json", "--explain", "--explain-dir", str(tmp_path / "x"), *map(str, images)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["heatmap"] for a in answers] == [str(tmp_path / "x" / f"{i.stem}.heatmap.png") for i in images]
    from PIL import Image

    for answer in answers:
        with Image.open(answer["heatmap"]) as heatmap:
            assert heatmap.format == "PNG" and heatmap.size == (256, 256)
