"""The run command's front door: help, and one clear line for bad input."""
import os
import subprocess
import sys

from helpers import RUN_LOCAL, make_class_folders
from pipeline.config import REPO_ROOT


def run_local(*argv, timeout=300):
    # As a user runs it: without the test session's TensorFlow log level, so the command sets its own.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, RUN_LOCAL, *argv], capture_output=True, text=True, timeout=timeout, env=env)


def test_help_lists_the_flags():
    result = run_local("--help", timeout=60)
    assert result.returncode == 0
    for flag in ("--data-dir", "--output-dir", "--epochs", "--image-size", "--batch-size", "--learning-rate", "--no-cache"):
        assert flag in result.stdout


def test_bad_setting_is_one_line_and_nothing_is_written(tmp_path):
    result = run_local("--image-size", "0", "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --image-size 0 must be between 8 and 1024 pixels (for example 32)."
    ]
    assert not (tmp_path / "out").exists()


def test_missing_data_dir_is_named_without_a_traceback(tmp_path):
    result = run_local("--data-dir", str(tmp_path / "nowhere"), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2
    assert f"{tmp_path / 'nowhere'} does not exist" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_imagenet_weights_that_cannot_be_fetched_stop_the_run_before_any_work(tmp_path):
    env_home = tmp_path / "home"
    env_home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_HOME")}
    env.update(HOME=str(env_home), https_proxy="http://127.0.0.1:9")  # offline, empty Keras cache
    argv = ["--architecture", "mobilenet_v2", "--pretrained-weights", "imagenet", "--output-dir", str(tmp_path / "out")]
    result = subprocess.run([sys.executable, RUN_LOCAL, *argv], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: --pretrained-weights imagenet: the mobilenet_v2 weights are not in Keras' cache")
    assert f"put it at {env_home}/.keras/models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in line
    assert not (tmp_path / "out" / "pipeline_root").exists()


def test_single_class_folder_is_refused_before_any_work(tmp_path):
    make_class_folders(tmp_path / "data", {"cat": ["1.png", "2.png"]})
    result = run_local("--data-dir", str(tmp_path / "data"), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "at least two" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_output_dir_that_cannot_be_written_is_named(tmp_path):
    make_class_folders(tmp_path / "data", {"cat": ["1.png", "2.png"], "dog": ["1.png", "2.png"]})
    (tmp_path / "a_file").write_text("not a folder")
    result = run_local("--data-dir", str(tmp_path / "data"), "--output-dir", str(tmp_path / "a_file" / "out"))
    assert result.returncode == 2
    assert f"Cannot write to --output-dir {tmp_path / 'a_file' / 'out'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_run_on_the_same_output_dir_is_refused_while_the_first_holds_it(tmp_path):
    import fcntl
    import os

    from pipeline.output_lock import LOCK_FILE

    make_class_folders(tmp_path / "data", {"cat": ["1.png", "2.png"], "dog": ["1.png", "2.png"]})
    out = tmp_path / "out"
    out.mkdir()
    with open(out / LOCK_FILE, "w") as held:  # what a running pipeline holds
        held.write("4242")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_local("--data-dir", str(tmp_path / "data"), "--output-dir", str(out))
    assert result.returncode == 2
    assert f"Another run (pid 4242) is using --output-dir {out}" in result.stderr
    assert not (out / "metadata.sqlite").exists()
    assert sorted(os.listdir(out)) == [LOCK_FILE]


def test_too_many_bad_files_stop_the_run_with_one_line_naming_them(tmp_path):
    data = make_class_folders(tmp_path / "data", {"cat": [f"{i}.png" for i in range(5)], "dog": ["1.png", "2.png"]})
    (data / "cat" / "empty.png").write_bytes(b"")
    result = run_local("--data-dir", str(data), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("stopped: 1 of 8 files (12.5%) were rejected, over the 5.0% limit")
    assert "cat/empty.png: empty file (0 bytes)" in lines[0] and lines[0].endswith("ingestion.json")
    assert "[Transform]" not in result.stdout
    assert not (tmp_path / "out" / "serving").exists()


def test_a_class_without_enough_images_is_refused_before_any_work(tmp_path):
    data = make_class_folders(tmp_path / "data", {"cat": ["1.png", "2.png"], "dog": ["1.png"]})
    result = run_local("--data-dir", str(data), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: In {data}: dog/ has 1 image file. A class needs at least 2 images, one to train on and one "
        "to evaluate: add images or remove the folder."
    ]
    assert not (tmp_path / "out").exists()


def test_a_local_run_does_not_import_the_cloud_sdks():
    """TFX's `tfx.v1` facade imports the Google Cloud AI Platform SDK: 2.5 s of every run."""
    code = (
        "import sys\n"
        "from pipeline import dag, run_local, run_record, run_report, summary\n"
        "from components.trainer import run\n"
        "from components.serving_pusher import executor\n"
        "from tfx.orchestration.local.local_dag_runner import LocalDagRunner\n"
        "print(sorted(m for m in sys.modules if m.startswith(('google.cloud.aiplatform', 'kfp'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_beam_workers_get_this_project_as_one_package_built_per_run(tmp_path):
    """Given --setup_file Beam would build the package in every Beam pipeline (two per step); the
    runner builds it once and passes it as --extra_package, which Beam copies as it is."""
    import argparse
    import tarfile

    from pipeline import beam_packaging, cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--output-dir", str(tmp_path), "--beam-arg=--direct_num_workers=2"])
    cfg = beam_packaging.package_for_beam_workers(cli.from_args(args))
    assert cfg.runtime.beam_args[0] == "--direct_num_workers=2"
    option, package = cfg.runtime.beam_args[1].split("=", 1)
    assert option == "--extra_package" and package.startswith(str(tmp_path)) and len(cfg.runtime.beam_args) == 2
    with tarfile.open(package) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    # What the workers import: the executors and the preprocessing_fn.
    assert {"components/image_example_gen/executor.py", "components/transform/preprocessing.py", "setup.py"} <= names
    assert beam_packaging.package_for_beam_workers(cli.from_args(parser.parse_args([]))).runtime.beam_args == ()
