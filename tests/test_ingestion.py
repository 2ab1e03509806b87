"""Bad files, one case each: every file is either ingested or rejected with a reason a person can act on."""
import json
import os
import re
import socket

import numpy as np
import pytest
import tensorflow as tf

import bad_files
from components import artifacts
from components.image_example_gen import ingestion
from components.image_example_gen.inventory import take_inventory
from components.image_example_gen.layout import detect_layout
from components.transform.preprocessing import decode_image
from helpers import make_class_folders, write_image
from test_image_example_gen import by_path, run_example_gen


@pytest.mark.parametrize("case", sorted(bad_files.REJECTED))
def test_bad_file_is_rejected_with_its_reason(case):
    _, make = bad_files.REJECTED[case]
    found = ingestion.inspect(make())
    assert found.reason is not None, f"{case} was not rejected"
    assert re.search(bad_files.REJECT_REASONS[case], found.reason), found.reason


@pytest.mark.parametrize("case", sorted(bad_files.INGESTED))
def test_unusual_but_readable_image_is_ingested_and_decodes(case):
    _, make = bad_files.INGESTED[case]
    image_bytes = make()
    found = ingestion.inspect(image_bytes)
    assert found.reason is None, found.reason
    assert (found.width, found.height) == (24, 20)
    assert list(found.notes) == bad_files.INGESTED_NOTES[case]
    # What ExampleGen accepts, the Transform graph decodes.
    image = decode_image(tf.constant(image_bytes), image_size=16, channels=3).numpy()
    assert image.shape == (16, 16, 3) and 0.0 <= image.min() <= image.max() <= 1.0


def test_cmyk_jpeg_decodes_to_the_same_colours_as_its_rgb_source():
    source = bad_files._rgb()
    cmyk = bad_files.encode(source.convert("CMYK"), "JPEG", quality=95)
    decoded = decode_image(tf.constant(cmyk), image_size=24, channels=3).numpy()
    expected = np.asarray(source.resize((24, 24)), dtype=np.float32) / 255.0
    assert np.abs(decoded - expected).mean() < 0.08  # not inverted (that would be about 0.5)


def test_the_pixel_limit_is_configurable():
    image_bytes = bad_files.png()  # 24 x 20 = 480 pixels
    assert ingestion.inspect(image_bytes, max_image_pixels=480).reason is None
    assert "over the limit of 479" in ingestion.inspect(image_bytes, max_image_pixels=479).reason


def rejects(data_dir):
    return dict(take_inventory(detect_layout(str(data_dir))).rejected)


def names(data_dir):
    return {path for images in take_inventory(detect_layout(str(data_dir))).candidates.values() for path, _ in images}


@pytest.fixture
def two_classes(tmp_path):
    return make_class_folders(tmp_path / "data", {"cat": ["1.png"], "dog": ["1.png"]})


def test_hidden_files_and_folders_are_rejected_and_hidden_folders_not_entered(two_classes):
    write_image(two_classes / "cat" / ".thumb.png")
    write_image(two_classes / "cat" / ".cache" / "a.png")
    (two_classes / ".DS_Store").write_bytes(b"\0")
    found = rejects(two_classes)
    assert found["cat/.thumb.png"].startswith("hidden file")
    assert found["cat/.cache/"].startswith("hidden folder")
    assert found[".DS_Store"].startswith("hidden file")
    assert "cat/.cache/a.png" not in found and "cat/.cache/a.png" not in names(two_classes)


def test_nested_folders_and_odd_names_are_ingested(two_classes):
    odd = ["ünïcödé 猫.png", "with space.jpg", "new\nline.png", "quote'\"s.bmp", "UPPER.JPEG"]
    for name in odd:
        write_image(two_classes / "cat" / "deep" / "er" / name)
    assert {f"cat/deep/er/{n}" for n in odd} <= names(two_classes)
    assert rejects(two_classes) == {}


def test_file_names_that_are_not_utf8_are_rejected_with_an_escaped_name(two_classes):
    path = os.path.join(os.fsencode(two_classes / "cat"), b"caf\xe9.png")
    with open(path, "wb") as f:
        f.write(bad_files.png())
    assert rejects(two_classes) == {"cat/caf\\xe9.png": "the name is not valid UTF-8; rename it"}


def test_other_extensions_and_stray_files_are_rejected(two_classes):
    (two_classes / "cat" / "labels.csv").write_text("a,b\n")
    (two_classes / "cat" / "README").write_text("hi")
    (two_classes / "photo.tif").write_bytes(b"II*\0")
    found = rejects(two_classes)
    assert found["cat/labels.csv"].startswith(".csv: not an image type the pipeline reads")
    assert found["cat/README"].startswith("no extension: not an image type")
    assert found["photo.tif"] == ".tif: not an image type the pipeline reads (.bmp, .gif, .jpeg, .jpg, .png); " \
        "convert it or move it out of the data dir"


def test_a_file_outside_class_folders_is_rejected(two_classes):
    write_image(two_classes / "loose.png")
    assert rejects(two_classes) == {"loose.png": "not inside a class folder; move it into one"}


def test_symbolic_links_are_followed_once_and_loops_and_broken_links_rejected(two_classes, tmp_path):
    outside = make_class_folders(tmp_path / "elsewhere", {"more": ["2.png"]})
    os.symlink(outside / "more", two_classes / "dog" / "more")  # a folder elsewhere: followed
    os.symlink("..", two_classes / "cat" / "up")  # back to the data dir: a loop
    os.symlink(".", two_classes / "cat" / "here")  # to itself: a loop
    os.symlink("../cat/1.png", two_classes / "dog" / "copy.png")  # a file already listed
    os.symlink("/nowhere/x.png", two_classes / "dog" / "gone.png")
    os.symlink("a.png", two_classes / "dog" / "b.png")
    os.symlink("b.png", two_classes / "dog" / "a.png")  # a loop of links
    found = rejects(two_classes)
    assert "dog/more/2.png" in names(two_classes)
    assert found["cat/up/"].startswith("symbolic link loop (to ..")
    assert found["cat/here/"].startswith("symbolic link loop (to .")
    assert found["dog/copy.png"] == "the same file as cat/1.png (through a symbolic link); read once, there"
    assert found["dog/gone.png"] == "broken symbolic link (to /nowhere/x.png); fix or remove it"
    assert found["dog/a.png"].startswith("broken symbolic link") and found["dog/b.png"].startswith("broken")


def test_pipes_and_sockets_are_rejected_without_being_read(two_classes):
    os.mkfifo(two_classes / "cat" / "pipe.png")  # reading it would block forever
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(two_classes / "cat" / "sock.png"))
    try:
        found = rejects(two_classes)
    finally:
        server.close()
    assert found["cat/pipe.png"].startswith("not a regular file")
    assert found["cat/sock.png"].startswith("not a regular file")


def test_split_layout_rejects_other_top_level_folders_and_files(tmp_path):
    data = tmp_path / "data"
    make_class_folders(data / "train", {"cat": ["1.png"], "dog": ["1.png"]})
    make_class_folders(data / "eval", {"cat": ["2.png"], "dog": ["2.png"]})
    make_class_folders(data / "test", {"cat": ["3.png"]})
    write_image(data / "train" / "loose.png")
    (data / "notes.md").write_text("x")
    found = rejects(data)
    assert found["test/"].startswith("not a split folder (eval/, train/), not read")
    assert found["train/loose.png"] == "not inside a class folder; move it into one"
    assert found["notes.md"].startswith(".md: not an image type")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_folder_is_rejected(two_classes):
    locked = two_classes / "cat" / "locked"
    write_image(locked / "a.png")
    locked.chmod(0)
    try:
        assert rejects(two_classes)["cat/locked/"].startswith("folder cannot be read (Permission denied)")
    finally:
        locked.chmod(0o755)


def corpus(root):
    """Two healthy classes plus one file of every bad and unusual case, spread over them."""
    data = make_class_folders(root, {"cat": [f"{i}.png" for i in range(12)], "dog": [f"{i}.jpg" for i in range(12)]})
    for index, (case, (name, make)) in enumerate(sorted({**bad_files.REJECTED, **bad_files.INGESTED}.items())):
        (data / ("cat", "dog")[index % 2] / f"{case}-{name}").write_bytes(make())
    write_image(data / "cat" / "nested" / "ünï.png")
    write_image(data / "dog" / ".hidden.png")
    (data / "dog" / "notes.txt").write_text("x")
    os.symlink("..", data / "dog" / "loop")
    return data


def test_example_gen_accounts_for_every_file_and_writes_the_rest(tmp_path):
    data = corpus(tmp_path / "data")
    with pytest.raises(ingestion.RejectedFilesError):  # 12 of 46 rejected: over the default 5%
        run_example_gen(data, tmp_path / "strict")
    splits, examples = run_example_gen(data, tmp_path / "out", max_rejected_fraction=0.5)
    with open(tmp_path / "out" / artifacts.INGESTION_FILE) as f:
        account = json.load(f)
    ingested = by_path(splits)
    rejected = {r["path"]: r["reason"] for r in account["rejected"]}
    assert account["files_seen"] == account["ingested"] + len(account["rejected"]) == 24 + 18 + 4
    assert account["ingested"] == len(ingested) == 24 + len(bad_files.INGESTED) + 1
    assert set(rejected) == {
        *(f"{('cat', 'dog')[i % 2]}/{case}-{name}" for i, (case, (name, _)) in enumerate(
            sorted({**bad_files.REJECTED, **bad_files.INGESTED}.items())) if case in bad_files.REJECTED),
        "dog/.hidden.png",
        "dog/notes.txt",
        "dog/loop/",
    }
    assert not set(rejected) & set(ingested)
    assert "cat/nested/ünï.png" in ingested
    notes = {c["path"].split("/")[-1].split("-")[0]: c["note"] for c in account["converted"]}
    assert notes["animated_gif"] == "animated GIF with 3 frames: the first frame is used"
    assert examples.get_int_custom_property("rejected") == len(rejected)
    assert not os.path.exists(tmp_path / "out" / ".ingestion-parts")


def test_workers_list_the_folders_and_account_for_every_file_alike_in_process_and_sharded(tmp_path):
    """Beam's multi-processing runner pickles the listing and spreads the class folders over worker
    processes, as Dataflow does: the account and the examples must be the same as in-process."""
    data = corpus(tmp_path / "data")
    os.symlink("../cat/3.png", data / "dog" / "also-cat.png")  # one file in two class folders: read once
    results = {}
    for name, options in (("in_process", ()), ("sharded", ("--direct_running_mode=multi_processing", "--direct_num_workers=2"))):
        splits, _ = run_example_gen(data, tmp_path / name, max_rejected_fraction=0.5, beam_options=options)
        with open(tmp_path / name / artifacts.INGESTION_FILE) as f:
            results[name] = (json.load(f), {path: split for path, (split, _) in by_path(splits).items()})
    (account, placed), (sharded_account, sharded_placed) = results["in_process"], results["sharded"]
    assert sharded_account == account and sharded_placed == placed
    assert account["files_seen"] == account["ingested"] + len(account["rejected"]) == 24 + 18 + 4 + 1
    assert account["ingested"] == len(placed)
    rejected = {r["path"]: r["reason"] for r in account["rejected"]}
    assert rejected["dog/also-cat.png"] == "the same file as cat/3.png (through a symbolic link); read once, there"
    assert "cat/3.png" in placed and "dog/loop/" in rejected


def test_too_many_rejects_stop_naming_the_share_and_the_first_offenders(tmp_path):
    data = make_class_folders(tmp_path / "data", {"cat": [f"{i}.png" for i in range(9)], "dog": ["1.png"]})
    (data / "dog" / "empty.png").write_bytes(b"")
    (data / "dog" / "x.txt").write_text("x")
    with pytest.raises(ingestion.RejectedFilesError) as raised:
        run_example_gen(data, tmp_path / "out")
    message = str(raised.value)
    assert message.startswith("2 of 12 files (16.7%) were rejected, over the 5.0% limit (--max-rejected-fraction).")
    assert "dog/empty.png: empty file (0 bytes)" in message and "dog/x.txt: .txt: not an image" in message
    # The full list is on disk for the person to read.
    assert message.endswith(str(tmp_path / "out" / artifacts.INGESTION_FILE))
    assert len(json.loads((tmp_path / "out" / artifacts.INGESTION_FILE).read_text())["rejected"]) == 2


def test_a_folder_of_nothing_but_bad_files_stops_even_with_no_limit(tmp_path):
    data = tmp_path / "data"
    for name in ("cat", "dog"):
        (data / name).mkdir(parents=True)
        (data / name / "empty.png").write_bytes(b"")
    with pytest.raises(ingestion.RejectedFilesError, match="^None of the 2 files could be ingested"):
        run_example_gen(data, tmp_path / "out", max_rejected_fraction=1.0)
