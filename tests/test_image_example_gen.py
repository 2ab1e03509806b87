"""The image ExampleGen executor, run through real Beam on tiny folders."""
import json
import os

import apache_beam as beam
import pytest
import tensorflow as tf
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts, standard_component_specs

from components import artifacts, features
from components.image_example_gen import executor
from components.image_example_gen.component import image_example_gen
from components.image_example_gen.options import IngestionLimits
from components.image_example_gen.inventory import take_inventory
from components.image_example_gen.layout import detect_layout
from helpers import make_class_folders, write_image


def run_example_gen(
    data_dir, output_dir, hash_buckets=(80, 20), max_rejected_fraction=0.05, beam_options=(), drop_duplicates=False
):
    """Runs the executor the way the pipeline configures it; returns {split: [tf.Example]}.

    `beam_options` (for example Beam's multi-processing runner) make the pipeline it runs on."""
    limits = IngestionLimits(max_rejected_fraction=max_rejected_fraction, drop_duplicates=drop_duplicates)
    component = image_example_gen(str(data_dir), hash_buckets, limits)
    exec_properties = {
        standard_component_specs.INPUT_BASE_KEY: str(data_dir),
        standard_component_specs.INPUT_CONFIG_KEY: component.exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
        standard_component_specs.OUTPUT_CONFIG_KEY: component.exec_properties[
            standard_component_specs.OUTPUT_CONFIG_KEY
        ],
        standard_component_specs.OUTPUT_DATA_FORMAT_KEY: example_gen_pb2.FORMAT_TF_EXAMPLE,
        standard_component_specs.CUSTOM_CONFIG_KEY: component.exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY],
    }
    examples = standard_artifacts.Examples()
    examples.uri = str(output_dir)
    context = None
    if beam_options:
        context = BaseBeamExecutor.Context(make_beam_pipeline_fn=lambda: beam.Pipeline(argv=list(beam_options)))
    executor.Executor(context).Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]}, exec_properties)
    splits = {}
    for split in ("train", "eval"):
        files = tf.io.gfile.glob(os.path.join(str(output_dir), f"Split-{split}", "*"))
        records = tf.data.TFRecordDataset(files, compression_type="GZIP")
        splits[split] = [tf.train.Example.FromString(r.numpy()) for r in records]
    return splits, examples


def value(example, key):
    feature = example.features.feature[key]
    return feature.int64_list.value[0] if key == features.LABEL_KEY else feature.bytes_list.value[0]


def by_path(splits):
    return {value(e, features.PATH_KEY).decode(): (split, e) for split, examples in splits.items() for e in examples}


def test_every_image_becomes_one_example_with_bytes_label_class_and_path(image_dir, tmp_path):
    splits, _ = run_example_gen(image_dir, tmp_path / "out")
    examples = by_path(splits)
    assert sorted(examples) == sorted(p for p, _ in take_inventory(detect_layout(str(image_dir))).candidates[""])
    for rel_path, (_, example) in examples.items():
        class_name = rel_path.split("/")[0]
        assert value(example, features.CLASS_NAME_KEY).decode() == class_name
        assert value(example, features.LABEL_KEY) == ["cat", "dog", "owl"].index(class_name)
        assert value(example, features.IMAGE_KEY) == (image_dir / rel_path).read_bytes()


def test_class_names_are_recorded_in_label_order(image_dir, tmp_path):
    _, examples = run_example_gen(image_dir, tmp_path / "out")
    assert artifacts.read_class_names(examples.uri) == ["cat", "dog", "owl"]
    assert json.loads(examples.get_string_custom_property("class_names")) == ["cat", "dog", "owl"]


def test_hash_split_is_stable_when_files_are_added(tmp_path):
    data = make_class_folders(tmp_path / "data", {c: [f"{i:02d}.png" for i in range(30)] for c in ("cat", "dog")})
    first = {p: split for p, (split, _) in by_path(run_example_gen(data, tmp_path / "out1")[0]).items()}
    assert {"train", "eval"} == set(first.values())
    for i in range(30, 40):
        write_image(data / "cat" / f"{i:02d}.png")
    second = {p: split for p, (split, _) in by_path(run_example_gen(data, tmp_path / "out2")[0]).items()}
    assert len(second) == 70
    assert {p: second[p] for p in first} == first


def test_hash_split_follows_the_configured_ratio(tmp_path):
    data = make_class_folders(tmp_path / "data", {c: [f"{i:03d}.png" for i in range(100)] for c in ("cat", "dog")})
    splits, _ = run_example_gen(data, tmp_path / "out", hash_buckets=(70, 30))
    assert len(splits["train"]) + len(splits["eval"]) == 200
    assert 0.2 < len(splits["eval"]) / 200 < 0.4


@pytest.mark.parametrize("eval_name", ["eval", "val"])
def test_train_and_eval_folders_keep_their_split_and_share_labels(tmp_path, eval_name):
    data = tmp_path / "data"
    make_class_folders(data / "train", {"cat": ["1.png", "2.png"], "dog": ["1.jpg"]})
    make_class_folders(data / eval_name, {"dog": ["3.png"], "owl": ["4.gif"]})
    splits, examples = run_example_gen(data, tmp_path / "out")
    assert sorted(value(e, features.PATH_KEY).decode() for e in splits["train"]) == [
        "train/cat/1.png",
        "train/cat/2.png",
        "train/dog/1.jpg",
    ]
    eval_labels = {value(e, features.PATH_KEY).decode(): value(e, features.LABEL_KEY) for e in splits["eval"]}
    assert eval_labels == {f"{eval_name}/dog/3.png": 1, f"{eval_name}/owl/4.gif": 2}
    assert artifacts.read_class_names(examples.uri) == ["cat", "dog", "owl"]


def test_cache_sees_renamed_class_folders(tmp_path):
    """Renaming a class folder relabels its images, so ExampleGen must not come from the cache."""
    from tfx import v1 as tfx

    from pipeline import run_record

    data = make_class_folders(tmp_path / "data", {"cat": ["1.png", "2.png"], "dog": ["1.png"]})
    metadata_path = str(tmp_path / "metadata.sqlite")

    def run_once():
        component = image_example_gen(str(data), (80, 20)).with_id("ImageExampleGen")
        tfx.orchestration.LocalDagRunner().run(
            tfx.dsl.Pipeline(
                pipeline_name="cache-test",
                pipeline_root=str(tmp_path / "root"),
                components=[component],
                enable_cache=True,
                metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path),
            )
        )
        record = run_record.read_run(run_record.open_store(metadata_path), "cache-test")
        return record.nodes["ImageExampleGen"].state

    assert run_once() == "COMPLETE"
    assert run_once() == "CACHED"
    (data / "cat").rename(data / "kitten")
    assert run_once() == "COMPLETE"


def test_a_data_dir_on_a_remote_file_system_is_read_through_gfile(image_dir, tmp_path):
    """TensorFlow's in-memory file system (ram://) stands in for gs://: no os or open() on data paths."""
    remote = f"ram://{tmp_path.name}/images"
    for path in image_dir.rglob("*"):
        if path.is_file():
            target = f"{remote}/{path.relative_to(image_dir).as_posix()}"
            tf.io.gfile.makedirs(os.path.dirname(target))
            tf.io.gfile.copy(str(path), target)
    tf.io.gfile.GFile(f"{remote}/cat/notes.txt", "w").write("not an image")
    splits, examples = run_example_gen(remote, tmp_path / "out", max_rejected_fraction=0.5)
    assert sorted(by_path(splits)) == sorted(str(p.relative_to(image_dir)) for p in image_dir.rglob("*") if p.is_file())
    account = json.loads((tmp_path / "out" / "ingestion.json").read_text())
    assert [r["path"] for r in account["rejected"]] == ["cat/notes.txt"]
    assert artifacts.read_class_names(examples.uri) == ["cat", "dog", "owl"]


def test_the_beam_job_holds_the_class_folders_not_a_list_of_images(tmp_path):
    """Workers list the folders: the job graph (what Dataflow is sent) is the same for 3 or 300
    images a class, where a list of paths in it grew with every image (60 MB at a million)."""
    from components.image_example_gen import inventory

    def job_graph_bytes(per_class):
        names = [f"{i:04d}.png" for i in range(per_class)]
        data = make_class_folders(tmp_path / f"data{per_class:04d}", {"cat": names, "dog": names})
        layout = detect_layout(str(data))
        folders, _ = inventory.plan_listing(layout)
        component = image_example_gen(str(data), (80, 20))
        pipeline = beam.Pipeline()
        executor.Executor().GenerateExamplesByBeam(
            pipeline,
            {
                standard_component_specs.OUTPUT_CONFIG_KEY: component.exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
                executor._LAYOUT_KEY: layout,  # noqa: SLF001 - what Do hands the transform
                executor._FOLDERS_KEY: folders,  # noqa: SLF001
                executor._LIMITS_KEY: IngestionLimits(),  # noqa: SLF001
                executor._PARTS_KEY: str(tmp_path / "parts"),  # noqa: SLF001
            },
        )
        return len(pipeline.to_runner_api().SerializeToString())

    # Equal but for a few bytes of pickling; the paths of 594 more images would add over 8 KB.
    assert abs(job_graph_bytes(300) - job_graph_bytes(3)) < 100


def test_workers_split_every_class_as_split_assignment_does_with_its_fix_up(tmp_path):
    """40 classes of 3 images: at 20% eval the hash leaves about half of them without an eval image,
    and those classes (only those) are grouped and fixed up; the rest keep their hash split."""
    from components.image_example_gen.layout import hash_split, split_assignment

    data = make_class_folders(tmp_path / "data", {f"class{c:02d}": ["a.png", "b.png", "c.png"] for c in range(40)})
    splits, _ = run_example_gen(data, tmp_path / "out")
    placed = {path: ("train", "eval").index(split) for path, (split, _) in by_path(splits).items()}
    images = take_inventory(detect_layout(str(data))).candidates[""]
    assert placed == split_assignment(images, (80, 20))
    fixed_up = {path for path, _ in images if placed[path] != hash_split(path, (80, 20))}
    assert 5 <= len(fixed_up) <= 40  # one moved file per short class
    assert all({placed[p] for p, c in images if c == name} == {0, 1} for name in {c for _, c in images})
