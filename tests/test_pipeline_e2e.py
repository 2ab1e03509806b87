"""The whole pipeline through its real command on the built-in sample: what one run produces."""
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from components import features
from helpers import PIPELINE_NODES, eval_examples
from pipeline.config import REPO_ROOT

SHOW_RUN = str(REPO_ROOT / "pipeline" / "show_run.py")


@pytest.mark.e2e
def test_first_run_pushes_a_blessed_model_and_summarises_it(first_run):
    _, output_dir, summary, stdout = first_run
    assert set(summary["components"]) == PIPELINE_NODES
    # A healthy run looks healthy: the resolvers found nothing (no tuning, no blessed model yet), which is no failure.
    assert set(summary["components"].values()) == {"COMPLETE"}
    assert summary["blessed"] is True
    assert summary["pushed_model"] and os.path.isdir(summary["pushed_model"])
    assert os.path.dirname(summary["pushed_model"]) == os.path.join(str(output_dir), "serving")
    data = summary["data"]
    assert sorted(data["class_names"]) == sorted(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    assert data["class_names"] == sorted(data["class_names"])
    assert sum(sum(counts.values()) for counts in data["class_counts"].values()) == 268
    assert data["class_counts"]["train"]["zero"] > 100
    evaluation = summary["evaluation"]
    assert evaluation["majority_class"] == "zero"
    assert evaluation["accuracy"] > evaluation["majority_fraction"]
    assert "Model blessed and pushed to" in stdout and "run_summary.json" in stdout
    assert summary["ingestion"]["files_seen"] == summary["ingestion"]["ingested"] == 268
    assert summary["ingestion"]["rejected"] == [] and summary["ingestion"]["max_rejected_fraction"] == 0.05
    assert "Ingested 268 of 268 files; none rejected." in stdout
    # The gate's figures come with their intervals; its reasons say what was judged.
    low, high = evaluation["accuracy_interval"]
    assert low < evaluation["accuracy"] <= high and evaluation["confidence_level"] == 0.95
    assert evaluation["reasons"][0].startswith(f"accuracy {evaluation['accuracy']:.3f} (95% interval {low:.3f} to {high:.3f}): the lower bound")
    assert evaluation["paired"] is None and summary["drift"]["compared"] is False
    # The model card is beside the pushed model, and the report links to it.
    card = summary["model_card"]
    assert card["beside_pushed_model"] is True
    assert card["html"] == os.path.join(summary["pushed_model"], "model_card.html") and os.path.isfile(card["html"])
    with open(card["json"]) as f:
        values = json.load(f)
    assert values["model_details"]["version"]["name"] == os.path.basename(summary["pushed_model"])
    assert [l["description"] for l in values["considerations"]["limitations"]] == card["limitations"]
    assert f"Model card: {card['html']}" in stdout
    with open(summary["report_html"], encoding="utf-8") as f:
        assert f'href="serving/{os.path.basename(summary["pushed_model"])}/model_card.html"' in f.read()


@pytest.mark.e2e
def test_tfma_result_holds_the_metrics_the_gate_used(first_run):
    import tensorflow_model_analysis as tfma

    _, output_dir, summary, _ = first_run
    (evaluation_dir,) = glob.glob(os.path.join(str(output_dir), "pipeline_root", "Evaluator", "evaluation", "*"))
    metrics = {
        name: value["doubleValue"]
        for name, value in tfma.load_eval_result(evaluation_dir).slicing_metrics[0][1][""][""].items()
        if "doubleValue" in value  # not the confusion matrices at thresholds
    }
    assert metrics["balanced_accuracy"] == pytest.approx(summary["evaluation"]["balanced_accuracy"])
    assert metrics["sparse_categorical_accuracy"] == pytest.approx(summary["evaluation"]["accuracy"])
    assert metrics["example_count"] == summary["data"]["split_sizes"]["eval"]
    # Our TFMA loss equals the validation loss Keras measured on the same eval split at the epoch
    # that was kept.
    assert metrics["loss"] == pytest.approx(summary["evaluation"]["loss"])
    (history_file,) = glob.glob(os.path.join(str(output_dir), "pipeline_root", "Trainer", "model_run", "*", "history.json"))
    with open(history_file) as f:
        val_loss = json.load(f)["history"]["val_loss"]
    assert metrics["loss"] == pytest.approx(val_loss[summary["training"]["best_epoch"] - 1], rel=1e-4)


@pytest.mark.e2e
def test_pushed_model_classifies_held_out_sample_images(first_run):
    _, output_dir, summary, _ = first_run
    model = tf.saved_model.load(summary["pushed_model"])
    serialized = eval_examples(output_dir)
    parsed = [tf.train.Example.FromString(s).features.feature for s in serialized]
    labels = np.array([f[features.LABEL_KEY].int64_list.value[0] for f in parsed])
    class_names = [f[features.CLASS_NAME_KEY].bytes_list.value[0].decode() for f in parsed]

    by_example = model.signatures[features.SERVING_SIGNATURE](examples=tf.constant(serialized))
    predicted = by_example[features.PROBABILITIES_OUTPUT].numpy().argmax(axis=1)
    accuracy = float(np.mean(predicted == labels))
    chance = 1 / len(summary["data"]["class_names"])
    assert accuracy > summary["evaluation"]["majority_fraction"]
    minority = labels != summary["data"]["class_names"].index("zero")
    assert np.mean(predicted[minority] == labels[minority]) > chance

    images = [f[features.IMAGE_KEY].bytes_list.value[0] for f in parsed]
    by_image = model.signatures[features.IMAGE_SIGNATURE](image_bytes=tf.constant(images))
    assert list(by_image["class_index"].numpy()) == list(predicted)
    named = [n.decode() for n in by_image["class_name"].numpy()]
    assert np.mean([n == c for n, c in zip(named, class_names)]) == pytest.approx(accuracy)


@pytest.mark.e2e
def test_imbalance_is_reported_and_countered_with_class_weights(first_run):
    _, output_dir, summary, stdout = first_run
    balance = summary["balance"]
    assert balance["imbalanced"] is True and balance["severity"] == "severe"
    assert balance["train"]["majority_class"] == "zero"
    assert 0.6 < balance["train"]["majority_fraction"] < 0.72
    assert balance["train"]["imbalance_ratio"] > 10
    assert balance["train"]["class_counts"] == summary["data"]["class_counts"]["train"]
    assert balance["class_weights"]["zero"] < 0.5 < min(w for c, w in balance["class_weights"].items() if c != "zero")
    assert os.path.isfile(balance["report_html"])
    assert balance["findings"][0] in stdout and balance["report_html"] in stdout

    # With class weights on, the model learns the small classes too: balanced accuracy (mean recall
    # over the classes eval has) is far above chance (0.1), not just the majority share.
    model = tf.saved_model.load(summary["pushed_model"])
    serialized = eval_examples(output_dir)
    labels = np.array([tf.train.Example.FromString(s).features.feature[features.LABEL_KEY].int64_list.value[0] for s in serialized])
    predicted = model.signatures[features.SERVING_SIGNATURE](examples=tf.constant(serialized))[
        features.PROBABILITIES_OUTPUT
    ].numpy().argmax(axis=1)
    recalls = [np.mean(predicted[labels == c] == c) for c in np.unique(labels)]
    assert np.mean(recalls) > 0.5


@pytest.mark.e2e
def test_training_is_summarised_with_its_best_epoch_and_plots(first_run):
    _, _, summary, stdout = first_run
    training = summary["training"]
    assert 1 <= training["best_epoch"] <= training["epochs_run"] <= 30
    assert training["best_val_accuracy"] == pytest.approx(summary["evaluation"]["accuracy"], abs=1e-6)
    assert [os.path.basename(p) for p in training["plots"]] == ["training_curves.png", "learning_rate.png"]
    assert all(os.path.getsize(p) > 10_000 for p in training["plots"])
    assert f"best epoch {training['best_epoch']}" in stdout
    # A model that learns the sample leaves nothing to explain.
    assert [f["code"] for f in training["findings"]] == []
    with open(summary["report_html"], encoding="utf-8") as f:
        page = f.read()
    assert "<h2>Training</h2>" in page and page.count("data:image/png;base64,") == 2
    assert "Label balance: verdict" in page


@pytest.mark.e2e
def test_predict_command_classifies_sample_images_with_the_pushed_model(first_run):
    sample_dir, output_dir, summary, _ = first_run
    images = [sorted((sample_dir / name).glob("*.png"))[0] for name in ("zero", "seven", "two")]
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "pipeline" / "predict.py"), "--output-dir", str(output_dir), "--json", *map(str, images)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["image"] for a in answers] == [str(i) for i in images]
    assert all(0.0 <= a["probability"] <= 1.0 for a in answers)
    # Most sample images are classified right (they include training images).
    assert sum(a["class"] == i.parent.name for a, i in zip(answers, images)) >= 2


@pytest.mark.e2e
def test_show_run_prints_the_verdict_and_report(first_run):
    _, output_dir, summary, _ = first_run

    def show(*flags):
        result = subprocess.run(
            [sys.executable, SHOW_RUN, "--output-dir", str(output_dir), *flags], capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    # This run, by its id: other tests may add runs to the same output dir (a second run from the cache).
    stdout = show("--run-id", summary["run_id"])
    assert summary["run_id"] in stdout
    assert summary["balance"]["findings"][0] in stdout
    assert summary["balance"]["report_html"] in stdout
    # Without an id, the latest run: the one the output dir's run_summary.json describes now.
    with open(os.path.join(str(output_dir), "run_summary.json")) as f:
        latest = json.load(f)
    shown = json.loads(show("--json"))
    assert shown["run_id"] == latest["run_id"] and shown["evaluation"] == latest["evaluation"]


@pytest.mark.e2e
def test_examples_carry_fingerprints_that_match_the_schema(first_run):
    _, output_dir, summary, _ = first_run
    parsed = [tf.train.Example.FromString(s).features.feature for s in eval_examples(output_dir)]
    hashes = [f[features.PIXEL_HASH_KEY].bytes_list.value[0].decode() for f in parsed]
    assert all(len(h) == 32 for h in hashes)
    for key in (features.BRIGHTNESS_KEY, features.CONTRAST_KEY):
        assert all(0.0 <= f[key].float_list.value[0] <= 1.0 for f in parsed)
    assert all(f[features.SHARPNESS_KEY].float_list.value[0] > 0 for f in parsed)
    assert len({f[features.PERCEPTUAL_HASH_KEY].int64_list.value[0] for f in parsed}) > len(parsed) // 2
    # The curated schema knows the new features: ExampleValidator finds nothing to report.
    from pipeline import run_record

    store = run_record.open_store(os.path.join(str(output_dir), "metadata.sqlite"))
    balance = run_record.collect(run_record.read_run(store, "image-classification")).balance
    assert balance.anomalies == {"train": [], "eval": []}


@pytest.mark.e2e
def test_the_pushed_model_is_published_as_tflite_and_predict_runs_it(first_run):
    sample_dir, output_dir, summary, stdout = first_run
    edge = summary["edge"]
    folder = os.path.join(output_dir, "edge", os.path.basename(summary["pushed_model"]))
    assert edge["exported"] and edge["folder"] == folder
    for key in ("tflite_float", "tflite_int8"):
        model = edge[key]
        assert model["published"] and model["path"].startswith(folder + os.sep), key
        assert model["bytes"] == os.path.getsize(model["path"]) and model["agreement"] >= 0.98, key
        assert abs(model["accuracy"] - edge["saved_model"]["accuracy"]) <= 0.05, key
    assert edge["tflite_int8"]["bytes"] < edge["tflite_float"]["bytes"] / 2
    assert edge["parity_images"] == summary["data"]["split_sizes"]["eval"]
    assert edge["input_spec"]["dtype"] == "uint8" and edge["input_spec"]["shape"][1:] == [32, 32, 3]
    assert "Edge: TF Lite int8" in stdout and "agrees with the SavedModel on" in stdout
    with open(summary["report_html"], encoding="utf-8") as f:
        assert "<h2>Edge models (TF Lite)</h2>" in f.read()

    images = [str(path) for name in ("zero", "three", "seven") for path in sorted((sample_dir / name).glob("*.png"))[:2]]
    served = tf.saved_model.load(summary["pushed_model"]).signatures[features.IMAGE_SIGNATURE]
    expected = [n.decode() for n in served(image_bytes=tf.constant([open(p, "rb").read() for p in images]))["class_name"].numpy()]
    # predict.py --tflite: the latest edge folder's int8 model, on images it decodes itself.
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "pipeline" / "predict.py"), "--output-dir", str(output_dir), "--tflite", "--json", *images],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["model"] for a in answers] == [edge["tflite_int8"]["path"]] * len(images)
    assert sum(a["class"] != e for a, e in zip(answers, expected)) <= 1, (answers, expected)
    # The float model in TF Lite's interpreter, on the pixels the Transform graph gives: class for class.
    from components.edge_export.convert import TFLiteClassifier
    from components.transform.preprocessing import decode_image, to_pixels

    pixels = np.stack([to_pixels(decode_image(tf.constant(open(p, "rb").read()), 32, 3)).numpy() for p in images])
    probabilities = TFLiteClassifier(model_path=edge["tflite_float"]["path"]).probabilities(pixels)
    names = summary["data"]["class_names"]
    assert [names[k] for k in probabilities.argmax(axis=1)] == expected
