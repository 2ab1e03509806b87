"""The run command's front door: help, and one clear line for bad input."""
import os
import subprocess
import sys

from conftest import make_class_folders
from pipeline.config import REPO_ROOT

RUN_LOCAL = str(REPO_ROOT / "pipeline" / "run_local.py")


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
