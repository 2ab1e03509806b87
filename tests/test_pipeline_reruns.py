"""The whole pipeline run again: from the cache, against the last blessed model, after a kill,
and sharded over Beam's multi-processing workers."""
import os
import shutil
import signal
import subprocess
import sys

import pytest
import tensorflow as tf

from components import features
from helpers import NO_EDGE, PIPELINE_NODES, RUN_LOCAL, run_pipeline


def served_files(output_dir):
    """{path: bytes} of everything in the serving folder."""
    root = os.path.join(str(output_dir), "serving")
    return {
        os.path.relpath(os.path.join(d, name), root): open(os.path.join(d, name), "rb").read()
        for d, _, names in os.walk(root)
        for name in names
    }


@pytest.mark.e2e
def test_second_run_is_served_from_the_cache_and_pushes_nothing_new(first_run):
    sample_dir, output_dir, first, _ = first_run
    second, stdout = run_pipeline(sample_dir, output_dir)
    assert second["run_id"] != first["run_id"]
    # Every step, the Evaluator included: the baseline is the latest blessed model other than the
    # candidate, so the cached candidate is not evaluated again against itself. Drift runs: it has
    # a served model to compare with now, trained on these very images, so it says nothing; and
    # ModelCard, which reads what Drift found, writes the same card again.
    resolvers = {"LatestBlessedModelResolver", "LatestTuningResolver", "ServedModelStatisticsResolver"}
    for node in PIPELINE_NODES - resolvers - {"Drift", "ModelCard"}:
        assert second["components"][node] == "CACHED", node
    assert second["model_card"] == first["model_card"]
    assert second["drift"]["compared"] is False and second["drift"]["findings"] == []
    assert second["drift"]["reason"] == "the served model was trained on these very images"
    assert "Drift:" not in stdout
    assert second["evaluation"] == first["evaluation"]
    assert second["pushed_model"] == first["pushed_model"]
    assert os.listdir(os.path.join(str(output_dir), "serving")) == [os.path.basename(first["pushed_model"])]


@pytest.mark.e2e
def test_the_gate_blesses_only_a_model_that_learned_and_never_touches_the_served_one(sample_dir, tmp_path):
    output_dir = tmp_path / "out"
    # 1. A model that cannot learn is not blessed, and nothing is pushed.
    dead, stdout = run_pipeline(sample_dir, output_dir, "--learning-rate", "0")
    assert dead["blessed"] is False and dead["pushed_model"] is None
    assert not os.path.exists(os.path.join(str(output_dir), "serving"))
    assert dead["evaluation"]["baseline_model"] is None
    assert dead["evaluation"]["reasons"][0].startswith("accuracy ")
    assert "does not beat the majority-class baseline 0.622 + 0.02" in dead["evaluation"]["reasons"][0]
    assert "Model NOT blessed" in stdout
    # The training analysis names the failure to learn.
    assert "underfitting" in [f["code"] for f in dead["training"]["findings"]]
    assert "Training finding [underfitting]: Training loss barely fell" in stdout

    # 2. A normal run is blessed and pushed; there was no blessed model to compare with.
    good, _ = run_pipeline(sample_dir, output_dir, NO_EDGE)
    assert good["blessed"] is True and good["pushed_model"]
    evaluation = good["evaluation"]
    assert evaluation["accuracy"] > evaluation["majority_baseline"]["accuracy"] + 0.02
    assert evaluation["balanced_accuracy"] > 0.1 + 0.05
    assert set(evaluation["per_class_recall"]) <= set(good["data"]["class_names"])
    assert evaluation["baseline_model"] is None
    served = served_files(output_dir)

    assert good["drift"] == {**good["drift"], "compared": False, "reason": "no blessed model yet: nothing to compare with"}

    # 3. A dead model after that, on the same folder with most 'zero' images gone, is rejected
    # against the blessed one, image by image; the served model is untouched. The drift from the
    # served model's training data is said before training.
    drifted = tmp_path / "fewer_zeros"
    shutil.copytree(sample_dir, drifted)
    for path in sorted((drifted / "zero").iterdir())[:120]:
        path.unlink()
    again, stdout = run_pipeline(drifted, output_dir, "--learning-rate", "0", NO_EDGE)
    assert again["blessed"] is False and again["pushed_model"] is None
    assert again["evaluation"]["baseline_model"]["accuracy"] > 0.8
    assert any("against the last blessed model" in r and "more than the 0.01 tolerance" in r for r in again["evaluation"]["reasons"])
    paired = {rule["metric"]: rule for rule in again["evaluation"]["paired"]}
    assert paired["accuracy"]["regression"] is True and paired["accuracy"]["p_value"] < 0.05
    assert paired["accuracy"]["baseline_only"] > paired["accuracy"]["candidate_only"]
    assert served_files(output_dir) == served
    drift = again["drift"]
    assert drift["compared"] is True and [m["feature"] for m in drift["measures"] if m["drifted"]] == ["class_name"]
    (line,) = drift["findings"]
    assert line.startswith("class shares moved since the served model's training data: 'zero' 67.3% -> ")
    assert stdout.index(f"Drift: {line}.") < stdout.index("[Trainer] running")

    # 4. --fail-on-imbalance stops after the data report (the data steps come from the cache),
    # before training; the served model is untouched.
    stopped = subprocess.run(
        [sys.executable, RUN_LOCAL, "--data-dir", str(sample_dir), "--output-dir", str(output_dir), "--fail-on-imbalance"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert stopped.returncode == 1
    assert "stopped: Labels are severely imbalanced: 'zero' is" in stopped.stderr
    assert "data_report.html" in stopped.stderr and "Traceback" not in stopped.stderr
    assert "[Trainer]" not in stopped.stdout
    assert served_files(output_dir) == served


@pytest.mark.e2e
def test_a_run_killed_during_training_resumes_from_the_cache_to_a_pushed_model(sample_dir, tmp_path):
    output_dir = tmp_path / "out"
    run = subprocess.Popen(
        [sys.executable, RUN_LOCAL, "--data-dir", str(sample_dir), "--output-dir", str(output_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        # Killed as epoch 3 starts: epochs 1 and 2 have written checkpoints and logs, and training
        # is under way (the whole Trainer takes only seconds on the sample, so no fixed sleep).
        for line in run.stdout:
            if line.startswith("Epoch 3/"):
                break
        else:
            pytest.fail("the run ended before its third epoch")
        os.killpg(run.pid, signal.SIGKILL)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL
    assert not os.path.exists(os.path.join(str(output_dir), "serving"))

    resumed, _ = run_pipeline(sample_dir, output_dir, NO_EDGE)
    for node in ("ImageExampleGen", "StatisticsGen", "LabelBalance", "Transform"):
        assert resumed["components"][node] == "CACHED", node
    assert resumed["components"]["Trainer"] == "COMPLETE"
    assert resumed["blessed"] is True and resumed["pushed_model"]
    assert os.listdir(os.path.join(str(output_dir), "serving")) == [os.path.basename(resumed["pushed_model"])]
    # The model trained after the kill classifies images through its raw-image signature.
    images = [sorted((sample_dir / name).glob("*.png"))[0] for name in ("zero", "seven", "two")]
    served = tf.saved_model.load(resumed["pushed_model"]).signatures[features.IMAGE_SIGNATURE]
    names = [n.decode() for n in served(image_bytes=tf.constant([p.read_bytes() for p in images]))["class_name"].numpy()]
    assert sum(name == path.parent.name for name, path in zip(names, images)) >= 2, names


@pytest.mark.e2e
def test_beam_steps_run_sharded_on_the_multi_processing_runner_with_the_same_result(first_run, tmp_path):
    """Beam's multi-processing DirectRunner pickles the transforms and shards the work over worker
    processes, as Dataflow and Flink do; the data must come out the same as in-process."""
    _, _, in_process, _ = first_run
    sharded, stdout = run_pipeline(
        first_run[0],
        tmp_path / "out",
        "--epochs",
        "2",
        NO_EDGE,
        "--beam-arg=--direct_running_mode=multi_processing",
        "--beam-arg=--direct_num_workers=2",
    )
    assert "sdist" not in stdout  # the project is packaged for the workers once, quietly
    for node in ("ImageExampleGen", "StatisticsGen", "Transform", "Evaluator"):
        assert sharded["components"][node] == "COMPLETE", node
    assert sharded["ingestion"] == in_process["ingestion"]
    assert sharded["data"]["class_counts"] == in_process["data"]["class_counts"]
    assert sharded["evaluation"]["example_count"] == in_process["evaluation"]["example_count"] == 45
