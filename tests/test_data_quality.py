"""The DataQuality step finds each planted problem with the right paths, and nothing else."""
import io
import json
import shutil
import subprocess
import sys

import apache_beam as beam
import pytest
import tensorflow as tf
from PIL import Image, ImageDraw, ImageFilter

from components import features
from components.data_quality import near
from components.data_quality.checks import Image as Record
from components.contracts.ingestion import IngestionAccount
from components.contracts.quality import QualityCounts, QualityRecord
from components.data_quality.checks import findings, group_kinds, is_blurry, outlier
from components.data_quality.options import QualityOptions
from components.data_quality.find import find_problems, quality_record, shown_paths, write_thumbnails
from components.data_quality.report import quality_section
from components.image_example_gen.ingestion import inspect
from helpers import NO_EDGE, RUN_LOCAL, run_pipeline

CLASSES = ["cat", "dog", "owl"]


def picture(seed: int, size=(48, 40)) -> Image.Image:
    """A distinct picture per seed: shapes on a gradient."""
    image = Image.new("RGB", size, (30 + seed % 50, 60, 90))
    draw = ImageDraw.Draw(image)
    for k in range(3):
        x, y = (seed * 7 + k * 13) % (size[0] - 12), (seed * 5 + k * 11) % (size[1] - 12)
        draw.ellipse([x, y, x + 12, y + 10], fill=((seed * 37 + k * 80) % 256, (seed * 91) % 256, (k * 120) % 256))
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def planted_folder(root, near: bool = False):
    """train/ and eval/ class folders of distinct pictures, with one of each problem planted (and,
    with `near`, a re-encoded, a resized and a cropped copy)."""
    seed = 0
    for split, per_class in (("train", 6), ("eval", 2)):
        for name in CLASSES:
            (root / split / name).mkdir(parents=True)
            for i in range(per_class):
                picture(seed).save(root / split / name / f"{i}.png")
                seed += 1
    shutil.copy(root / "train/cat/0.png", root / "train/cat/copy.png")  # duplicate within a class
    picture(1).save(root / "train/dog/also_cat.bmp")  # train/cat/1.png's pixels, as BMP, in another class
    shutil.copy(root / "train/owl/2.png", root / "eval/owl/leaked.png")  # in train and eval
    Image.new("RGB", (40, 40), (250, 250, 250)).save(root / "train/dog/blank.png")
    picture(7, size=(200, 20)).save(root / "train/owl/banner.png")
    picture(3).filter(ImageFilter.GaussianBlur(3)).save(root / "train/cat/blurred.png")
    if near:
        picture(4).save(root / "train/cat/resaved.jpg", quality=75)  # train/cat/4.png, JPEG q75
        picture(20).resize((43, 36), Image.Resampling.LANCZOS).save(root / "train/dog/smaller.png")  # eval/dog/0.png at 90%
        picture(16).crop((2, 0, 48, 38)).save(root / "train/cat/cropped.png")  # train/owl/4.png, 5% cropped, as a cat
    return root


EXPECTED = {
    "exact_duplicates": [
        ["eval/owl/leaked.png", "train/owl/2.png"],
        ["train/cat/0.png", "train/cat/copy.png"],
        ["train/cat/1.png", "train/dog/also_cat.bmp"],
    ],
    "conflicting_labels": [["train/cat/1.png", "train/dog/also_cat.bmp"]],
    "train_eval_leaks": [["eval/owl/leaked.png", "train/owl/2.png"]],
    "leaked_eval_images": ["eval/owl/leaked.png"],
    "outliers": {("train/dog/blank.png", "near_constant"), ("train/owl/banner.png", "aspect_ratio"), ("train/cat/blurred.png", "blurry")},
}
NEAR = {
    "near_duplicates": [
        ["eval/dog/0.png", "train/dog/smaller.png"],
        ["train/cat/4.png", "train/cat/resaved.jpg"],
        ["train/cat/cropped.png", "train/owl/4.png"],
    ],
    "conflicting_labels": EXPECTED["conflicting_labels"] + [["train/cat/cropped.png", "train/owl/4.png"]],
    "train_eval_leaks": EXPECTED["train_eval_leaks"] + [["eval/dog/0.png", "train/dog/smaller.png"]],
    "leaked_eval_images": ["eval/dog/0.png", "eval/owl/leaked.png"],
}


def write_examples(root, out):
    """The examples ExampleGen would write for the folder, with the fingerprints its check computes."""
    patterns = {}
    for split in ("train", "eval"):
        (out / f"Split-{split}").mkdir(parents=True)
        with tf.io.TFRecordWriter(str(out / f"Split-{split}" / "data.gz"), options="GZIP") as writer:
            for path in sorted((root / split).rglob("*.*")):
                data = path.read_bytes()
                found = inspect(data)
                fingerprint = found.fingerprint
                values = {
                    features.PATH_KEY: [str(path.relative_to(root)).encode()],
                    features.IMAGE_KEY: [data],
                    features.PIXEL_HASH_KEY: [fingerprint.pixel_hash.encode()],
                }
                values[features.THUMBNAIL_KEY] = [fingerprint.thumbnail]
                ints = {
                    features.PERCEPTUAL_HASH_KEY: [fingerprint.perceptual_hash],
                    features.CROP_HASHES_KEY: list(fingerprint.crop_hashes),
                    features.LABEL_KEY: [CLASSES.index(path.parent.name)],
                    features.IMAGE_WIDTH_KEY: [found.width],
                    features.IMAGE_HEIGHT_KEY: [found.height],
                }
                floats = {features.CONTRAST_KEY: [fingerprint.contrast], features.SHARPNESS_KEY: [fingerprint.sharpness]}
                feature = {k: tf.train.Feature(bytes_list=tf.train.BytesList(value=v)) for k, v in values.items()}
                feature.update({k: tf.train.Feature(int64_list=tf.train.Int64List(value=v)) for k, v in ints.items()})
                feature.update({k: tf.train.Feature(float_list=tf.train.FloatList(value=v)) for k, v in floats.items()})
                writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        patterns[split] = str(out / f"Split-{split}" / "*")
    return patterns


def test_the_beam_job_finds_each_planted_problem_and_nothing_else(tmp_path):
    root = planted_folder(tmp_path / "images", near=True)
    patterns = write_examples(root, tmp_path / "examples")
    out = tmp_path / "quality"
    out.mkdir()
    with beam.Pipeline() as pipeline:
        find_problems(pipeline, patterns, QualityOptions(), str(out))
    quality = quality_record(str(out), CLASSES, QualityOptions())
    expected = {**EXPECTED, **NEAR}
    for kind in ("exact_duplicates", "near_duplicates", "conflicting_labels", "train_eval_leaks"):
        assert [[i.path for i in g.images] for g in getattr(quality, kind)] == expected[kind], kind
    assert [g.match for g in quality.train_eval_leaks] == ["exact", "near"]
    assert quality.leaked_eval_images == expected["leaked_eval_images"]
    assert {(o.path, o.kind) for o in quality.outliers} == EXPECTED["outliers"]
    assert quality.counts.duplicate_images == 3 and quality.counts.near_duplicate_images == 6
    assert quality.findings[0].startswith("2 eval images also appear in train")
    assert list(out.iterdir()) == []  # the job's own files are gone once read
    section = quality_section(quality, lambda relative: None)
    assert "Near duplicates (3)" in section and "In both train and eval (2)" in section and "near copy" in section
    thumbnails = write_thumbnails(str(tmp_path / "examples" / "Split-*" / "*"), shown_paths(quality), str(out))
    assert set(thumbnails) == {p for kind in ("exact_duplicates", "near_duplicates") for g in expected[kind] for p in g} | {
        p for p, _ in EXPECTED["outliers"]
    }
    assert all((out / relative).stat().st_size > 200 for relative in thumbnails.values())


def record(**changes):
    values = dict(path="a.png", split="train", label=0, pixel_hash="h", contrast=0.2, sharpness=100.0, width=40, height=30)
    return Record(**{**values, **changes})


def test_checks_and_their_thresholds():
    options = QualityOptions()
    assert outlier(record(contrast=0.01), options) == ("near_constant", 0.01)
    assert outlier(record(width=500, height=100), options) == ("aspect_ratio", 5.0)
    assert outlier(record(width=100, height=400), options) is None  # 4.0 is the limit itself
    assert outlier(record(), options) is None
    assert is_blurry(record(sharpness=4.0), class_median=100.0, options=options)
    assert not is_blurry(record(sharpness=6.0), class_median=100.0, options=options)
    assert not is_blurry(record(sharpness=0.0, contrast=0.0), class_median=100.0, options=options)  # near-constant instead
    assert group_kinds([record(), record(path="b.png")]) == ["exact_duplicates"]
    assert group_kinds([record(), record(path="b.png", label=1, split="eval")]) == [
        "exact_duplicates", "conflicting_labels", "train_eval_leaks"
    ]  # fmt: skip
    nothing = QualityRecord([], [], [], [], [], [], {}, QualityCounts(*[0] * 10), findings=[])
    assert findings(nothing) == []
    with pytest.raises(ValueError, match="max_aspect_ratio 0.5"):
        QualityOptions(max_aspect_ratio=0.5)


@pytest.fixture(scope="module")
def planted_runs(tmp_path_factory):
    """The pipeline over the planted folder twice into one output dir: a whole run, then one with
    --fail-on-leakage, whose data steps come from the cache (one set of data steps, not two).
    Returns (summary, stdout) of the first and the finished process of the second."""
    root = planted_folder(tmp_path_factory.mktemp("planted") / "images")
    out = root.parent / "out"
    summary, stdout = run_pipeline(root, out, "--epochs", "1", NO_EDGE)
    stopped = subprocess.run(
        [sys.executable, RUN_LOCAL, "--data-dir", str(root), "--output-dir", str(out), "--epochs", "1", NO_EDGE, "--fail-on-leakage"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return summary, stdout, stopped


@pytest.mark.e2e
def test_a_run_reports_the_planted_problems_everywhere(planted_runs):
    summary, stdout, _ = planted_runs
    quality = summary["data_quality"]
    for kind in ("exact_duplicates", "conflicting_labels", "train_eval_leaks", "leaked_eval_images"):
        assert quality[kind] == EXPECTED[kind], kind
    assert {(o["path"], o["kind"]) for o in quality["outliers"]} == EXPECTED["outliers"]
    assert "Data quality: 1 eval image also appears in train (the same picture, or a near copy): eval accuracy is overstated." in stdout
    assert "overstated: 1 eval image is also in train." in stdout
    for page_path in (summary["report_html"], summary["balance"]["report_html"]):
        with open(page_path, encoding="utf-8") as f:
            page = f.read()
        assert "<h2>Data quality</h2>" in page and "In both train and eval (1)" in page
        assert page.count('class="group"') == 5  # 1 leak + 1 conflict + 3 duplicate groups
    assert json.dumps(summary).count("also_cat.bmp") >= 2
    # The gate judged the eval split without the leaked image, and says so.
    assert summary["evaluation"]["leak_free"]["excluded"] == ["eval/owl/leaked.png"]
    assert summary["evaluation"]["leak_free"]["example_count"] == summary["data"]["split_sizes"]["eval"] - 1
    assert summary["evaluation"]["reasons"][0].startswith("judged on the 6 eval images not also in train")


@pytest.mark.e2e
def test_the_sample_has_no_data_quality_problem(first_run):
    _, _, summary, stdout = first_run
    counts = summary["data_quality"]["counts"]
    assert set(counts.values()) == {0}, counts
    assert "Data quality: no exact duplicates, conflicting labels, train/eval leaks or odd images." in stdout
    assert summary["evaluation"]["leak_free"] is None


@pytest.mark.e2e
def test_fail_on_leakage_stops_after_the_data_report(planted_runs):
    result = planted_runs[2]
    assert result.returncode == 1, result.stderr[-2000:]
    assert "stopped: 1 eval image also appears in train (the same picture, or a near copy): eval accuracy is overstated." in result.stderr
    assert "(--fail-on-leakage)" in result.stderr and "data_report.html" in result.stderr
    assert "Traceback" not in result.stderr and "[Trainer]" not in result.stdout


def test_drop_duplicates_keeps_one_of_each_and_lists_every_dropped_file(tmp_path):
    from components.label_balance.report import ingestion_html
    from test_image_example_gen import run_example_gen

    root = planted_folder(tmp_path / "images")
    splits, examples = run_example_gen(root, tmp_path / "examples", drop_duplicates=True)
    with open(tmp_path / "examples" / "ingestion.json") as f:
        account = json.load(f)
    # The copy within a class and the eval copy of a train image go; the picture under two classes
    # stays whole (which label is right is for a person). Every file is still accounted for.
    assert [d["path"] for d in account["dropped"]] == ["eval/owl/leaked.png", "train/cat/copy.png"]
    assert account["dropped"][0]["reason"].startswith("exact duplicate of train/owl/2.png")
    assert account["files_seen"] == account["ingested"] + len(account["rejected"]) + len(account["dropped"])
    paths = {e.features.feature[features.PATH_KEY].bytes_list.value[0].decode() for split in splits.values() for e in split}
    assert len(paths) == account["ingested"] and not paths & {"eval/owl/leaked.png", "train/cat/copy.png"}
    assert {"train/cat/0.png", "train/owl/2.png", "train/cat/1.png", "train/dog/also_cat.bmp"} <= paths
    page = ingestion_html(IngestionAccount.from_json(account))
    assert "Dropped as exact duplicates (2, --drop-duplicates)" in page


def test_near_duplicates_are_confirmed_on_pixels_not_hashes_alone():
    def thumb(image):
        return near.thumbnail_array(inspect(png(image) if image.mode == "RGB" else image).fingerprint.thumbnail)

    def jpeg(image):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=75)
        return buffer.getvalue()

    original = picture(5, size=(96, 80))
    copies = [
        near.thumbnail_array(inspect(jpeg(original)).fingerprint.thumbnail),
        thumb(original.resize((86, 72), Image.Resampling.LANCZOS)),
        thumb(original.crop((5, 0, 96, 80))),  # 5% off the left
    ]
    assert near.difference(thumb(original), thumb(original)) == pytest.approx(0, abs=1e-3)
    limit = QualityOptions().near_duplicate_difference
    assert all(near.difference(thumb(original), copy) <= limit for copy in copies)
    assert all(near.difference(thumb(original), thumb(picture(seed, size=(96, 80)))) > limit for seed in range(6, 16))


def test_candidate_pairs_need_an_own_hash_and_keep_the_closest_per_image():
    crops = [-1] * 9  # all bits set: far from every pHash below
    members = [("a", True, 0b0000, crops), ("b", True, 0b0011, crops), ("c", False, 0b1111_1111_0000, crops)]
    assert near.candidate_pairs(members, max_bits=4) == [("a", "b", 2)]  # c is 8 bits from a and 6 from b
    # c met only by a crop hash, and d too: the two say nothing to each other
    members = [("c", False, 1, [0] * 9), ("d", False, 2, [0] * 9)]
    assert near.candidate_pairs(members, max_bits=4) == []
    crowd = [(f"p{i:02d}", True, (1 << i) - 1, crops) for i in range(12)]  # p00 is i bits from p0i
    pairs = near.candidate_pairs(crowd, max_bits=64, per_image=2)
    assert ("p00", "p01", 1) in pairs and ("p10", "p11", 1) in pairs
    assert ("p00", "p11", 11) not in pairs  # neither is among the other's two closest
    with pytest.raises(ValueError, match="near_duplicate_bits 30"):
        QualityOptions(near_duplicate_bits=30)
