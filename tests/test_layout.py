"""Reading a data dir: layouts, class order, which files count as images, clear errors."""
import pytest

from components.image_example_gen.inventory import take_inventory
from components.image_example_gen.layout import (
    DataLayoutError,
    check_every_class_has_images,
    detect_layout,
    hash_split,
    split_assignment,
)
from helpers import make_class_folders, write_image


def candidates(data_dir, subdir=""):
    return take_inventory(detect_layout(str(data_dir))).candidates[subdir]


def test_class_folders_are_classes_in_sorted_order(image_dir):
    layout = detect_layout(str(image_dir))
    assert layout.class_names == ("cat", "dog", "owl")
    assert not layout.has_split_folders
    assert layout.class_roots() == {"": str(image_dir)}


def test_lists_every_supported_format_with_its_class(image_dir):
    images = candidates(image_dir)
    assert sorted(images) == sorted(
        [
            ("cat/a.png", "cat"),
            ("cat/b.jpg", "cat"),
            ("cat/c.gif", "cat"),
            ("cat/d.bmp", "cat"),
            ("cat/e.jpeg", "cat"),
            ("dog/a.png", "dog"),
            ("dog/b.PNG", "dog"),
            ("dog/c.jpg", "dog"),
            ("owl/a.bmp", "owl"),
            ("owl/b.gif", "owl"),
        ]
    )


def test_nested_folders_belong_to_their_class_and_hidden_folders_are_not_classes(image_dir):
    write_image(image_dir / "cat" / "indoor" / "sofa.png")
    (image_dir / ".cache").mkdir()
    images = dict(candidates(image_dir))
    assert images["cat/indoor/sofa.png"] == "cat"
    assert detect_layout(str(image_dir)).class_names == ("cat", "dog", "owl")


@pytest.mark.parametrize("eval_name", ["eval", "val", "validation"])
def test_train_and_eval_folders_are_taken_as_splits(tmp_path, eval_name):
    make_class_folders(tmp_path / "train", {"cat": ["1.png"], "dog": ["1.png"]})
    make_class_folders(tmp_path / eval_name, {"cat": ["2.png"], "owl": ["2.png"]})
    layout = detect_layout(str(tmp_path))
    assert layout.has_split_folders
    # Classes are the union over splits, so labels mean the same in both.
    assert layout.class_names == ("cat", "dog", "owl")
    assert layout.split_dirs == (("train", "train"), ("eval", eval_name))
    assert layout.class_roots() == {"train": str(tmp_path / "train"), eval_name: str(tmp_path / eval_name)}
    assert take_inventory(layout).candidates[eval_name] == [(f"{eval_name}/cat/2.png", "cat"), (f"{eval_name}/owl/2.png", "owl")]


def test_missing_data_dir_is_named(tmp_path):
    with pytest.raises(DataLayoutError, match=r"does_not_exist does not exist.*--data-dir"):
        detect_layout(str(tmp_path / "does_not_exist"))


def test_train_without_eval_says_what_to_add(tmp_path):
    make_class_folders(tmp_path / "train", {"cat": ["1.png"], "dog": ["1.png"]})
    with pytest.raises(DataLayoutError, match=r"train/ folder but no eval folder \(eval/, val/, validation/\)"):
        detect_layout(str(tmp_path))


def test_two_eval_folders_are_ambiguous(tmp_path):
    for name in ("train", "eval", "val"):
        make_class_folders(tmp_path / name, {"cat": ["1.png"], "dog": ["1.png"]})
    with pytest.raises(DataLayoutError, match="both eval/ and val/"):
        detect_layout(str(tmp_path))


def test_one_class_is_not_enough(tmp_path):
    make_class_folders(tmp_path, {"cat": ["1.png"]})
    with pytest.raises(DataLayoutError, match="Found 1 class folder.*at least two"):
        detect_layout(str(tmp_path))


def test_a_class_with_too_few_images_is_named_before_any_work(tmp_path):
    data = make_class_folders(tmp_path / "data", {"cat": ["1.png", "2.png"], "dog": ["1.png"]})
    (data / "owl").mkdir()
    (data / "owl" / "notes.txt").write_text("no images here")
    layout = detect_layout(str(data))
    with pytest.raises(DataLayoutError) as raised:
        check_every_class_has_images(layout, take_inventory(layout))
    assert str(raised.value) == (
        f"In {data}: dog/ has 1 image file; owl/ has no image files. A class needs at least 2 images, "
        "one to train on and one to evaluate: add images or remove the folder."
    )


def test_a_class_missing_from_a_split_folder_is_named(tmp_path):
    make_class_folders(tmp_path / "train", {"cat": ["1.png"], "dog": ["1.png"]})
    make_class_folders(tmp_path / "eval", {"cat": ["2.png"]})
    layout = detect_layout(str(tmp_path))
    with pytest.raises(DataLayoutError, match=r"eval/dog/ has no image files\. Put images of every class in both"):
        check_every_class_has_images(layout, take_inventory(layout))


def test_split_by_hash_matches_tfx_and_gives_every_class_both_splits(tmp_path):
    from tfx.components.example_gen.base_example_gen_executor import _PartitionFn
    from tfx.proto import example_gen_pb2

    import tensorflow as tf

    from components import features

    images = [(f"big/{i:03d}.png", "big") for i in range(200)] + [(f"small/58-{i}.png", "small") for i in range(10)]
    config = example_gen_pb2.SplitConfig(partition_feature_name=features.PATH_KEY)
    for path, _ in images[:200]:
        example = tf.train.Example()
        example.features.feature[features.PATH_KEY].bytes_list.value.append(path.encode())
        assert hash_split(path, (80, 20)) == _PartitionFn(example, 2, [80, 100], config)
    by_hash = {path: hash_split(path, (80, 20)) for path, _ in images}
    assert {by_hash[p] for p, c in images if c == "small"} == {0}  # hash alone leaves 'small' out of eval
    assignment = split_assignment(images, (80, 20))
    assert {assignment[p] for p, c in images if c == "small"} == {0, 1}
    # Only one file moved; every other file kept its hash split.
    assert sum(assignment[p] != by_hash[p] for p, _ in images) == 1


def test_a_local_run_walks_the_data_dir_once_before_the_beam_job(image_dir, monkeypatch):
    """The pre-flight check and ExampleGen's cache key share one walk: the driver takes the
    pre-flight's fingerprint, once; without a pre-flight it walks the folder itself."""
    from components.image_example_gen import cache_key

    layout = detect_layout(str(image_dir))
    fresh = cache_key.fingerprint(layout)
    walks = []
    walk = cache_key.take_inventory
    monkeypatch.setattr(cache_key, "take_inventory", lambda found: walks.append(found) or walk(found))
    cache_key.preflight(layout)
    assert cache_key.fingerprint(layout) == fresh and len(walks) == 1
    assert cache_key.fingerprint(layout) == fresh and len(walks) == 2  # a later run walks again
    (image_dir / "cat" / "a.png").rename(image_dir / "cat" / "renamed.png")
    cache_key.preflight(layout)
    assert cache_key.fingerprint(layout) != fresh  # a renamed file is a new cache key
