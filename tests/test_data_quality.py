"""The DataQuality step finds each planted problem with the right paths, and nothing else."""
import io
import json
import shutil
import subprocess
import sys

import dataclasses
import glob
import functools

import apache_beam as beam
import numpy as np
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
from components.data_quality.embedded import embedding_checks
from components.data_quality.report import quality_section
from components.contracts.embeddings import EmbeddingIndex, split_counts
from components.embeddings.component import _committed, embed_examples
from components.embeddings.embed import BACKBONE, DIMENSIONS
from components.embeddings.options import EmbeddingOptions
from components.image_example_gen.ingestion import inspect
from helpers import NO_EDGE, RUN_LOCAL, run_pipeline

CLASSES = ["cat", "dog", "owl"]


@functools.lru_cache(maxsize=None)
def _photos():
    from sklearn.datasets import load_sample_image

    return [Image.fromarray(load_sample_image(name)) for name in ("china.jpg", "flower.jpg")]


def picture(seed: int, size=(48, 40)) -> Image.Image:
    """A distinct picture per seed: a tile of one of scikit-learn's two photos, from a grid that
    leaves out flat tiles (sky), so that no two seeds share pixels."""
    return _tiles(size)[(seed * 7919) % len(_tiles(size))].copy()


def _contrasted_tiles(photo: Image.Image, size):
    """The photo's tiles of this size on a grid, leaving out flat ones (sky)."""
    width, height = size
    for top in range(0, photo.height - height + 1, height):
        for left in range(0, photo.width - width + 1, width):
            tile = photo.crop((left, top, left + width, top + height))
            if np.asarray(tile.convert("L"), np.float32).std() >= 25:
                yield tile


@functools.lru_cache(maxsize=None)
def _tiles(size):
    """The photos' tiles of this size with contrast, and of middling sharpness (so that only a
    blurred copy is blurry for its class)."""
    tiles, sharpness = [], []
    for photo in _photos():
        for tile in _contrasted_tiles(photo, size):
            gray = np.asarray(tile.convert("L"), np.float32)
            laplacian = gray[1:-1, 1:-1] * 4 - gray[:-2, 1:-1] - gray[2:, 1:-1] - gray[1:-1, :-2] - gray[1:-1, 2:]
            tiles.append(tile)
            sharpness.append(laplacian.var())
    low, high = np.percentile(sharpness, [30, 70])
    return [tile for tile, value in zip(tiles, sharpness) if low <= value <= high]


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
        picture(16).crop((2, 0, 48, 40)).save(root / "train/cat/cropped.png")  # train/owl/4.png, 4% off the left, as a cat
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


def run_checks(patterns, out, class_names=CLASSES, options=QualityOptions()):
    """The Embeddings step's Beam job, then DataQuality's and its embedding checks, as the steps run
    them (without TFX): the record, and the embeddings' index."""
    embedded = out.parent / "embeddings"
    embedded.mkdir()
    out.mkdir()
    with beam.Pipeline() as pipeline:
        embed_examples(pipeline, patterns, EmbeddingOptions(), str(embedded))
    index = EmbeddingIndex(BACKBONE, 96, DIMENSIONS, "float16", {}, [], 0.0)
    names, counts = _committed(str(embedded))
    assert counts == split_counts(str(embedded), names)  # the job's list says what the shards hold
    index = dataclasses.replace(index, shards=names, images=counts)
    with beam.Pipeline() as pipeline:
        find_problems(pipeline, patterns, options, str(out))
    found = embedding_checks(str(embedded), index, class_names, options)
    return quality_record(str(out), class_names, options, found), index


def test_the_beam_job_finds_each_planted_problem_and_nothing_else(tmp_path):
    root = planted_folder(tmp_path / "images", near=True)
    patterns = write_examples(root, tmp_path / "examples")
    out = tmp_path / "quality"
    quality, index = run_checks(patterns, out)
    assert sum(index.images.values()) == len(list(root.rglob("*.*")))
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
def test_the_sample_has_no_data_quality_problem_but_a_few_doubtful_digits(first_run):
    _, _, summary, stdout = first_run
    quality = summary["data_quality"]
    counts = {kind: n for kind, n in quality["counts"].items() if kind != "label_issues"}
    assert set(counts.values()) == {0}, counts
    # Its labels are judged (the digits' embeddings separate them well) and a few badly written
    # digits are doubted, each with a low score, the likeliest named on the console.
    check = quality["label_check"]
    assert check["judged"] and check["classifier_balanced_accuracy"] > 0.8, check
    issues = quality["label_issues"]
    assert len(issues) <= 5 and all(issue["score"] < 0.5 and issue["suggested"] != issue["given"] for issue in issues)
    if issues:
        assert f"Data quality: {len(issues)} image" in stdout and issues[0]["path"] in stdout
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


def test_neighbours_in_cells_find_planted_near_copies_and_bound_the_work():
    from components.data_quality import neighbours

    rng = np.random.RandomState(0)
    n, planted = 6000, 50
    vectors = rng.normal(size=(n, 32)).astype(np.float32)
    vectors[n - planted :] = vectors[:planted] + 0.15 * rng.normal(size=(planted, 32))  # near copies of the first 50
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = (np.arange(n) % 3).astype(np.int32)
    found = neighbours.neighbours(vectors, labels, near_k=4, near_floor=0.8, class_k=5)
    pairs = {tuple(pair) for pair in neighbours.candidate_pairs(found).tolist()}
    assert {(i, n - planted + i) for i in range(planted)} <= pairs  # through the cells, all found
    assert len(pairs) < 2 * planted  # random directions in 32 dimensions are not above the floor
    home, members = neighbours.cells(vectors)
    assert len(members) == n // neighbours.CELL_IMAGES and sum(len(m) for m in members) == n * neighbours.PROBES
    assert np.isfinite(found.class_similarity).all()
    # the search never pairs an image with itself, and keeps each pair once, over views too
    assert all(a < b for a, b in pairs) and neighbours.candidate_pairs(found, found).tolist() == sorted(map(list, pairs))
    # an image unlike every other of its class is far from it
    centres = rng.normal(size=(3, 32))
    grouped = (centres[labels] + 0.5 * rng.normal(size=(n, 32))).astype(np.float32)
    grouped[7] = rng.normal(size=32)
    grouped /= np.linalg.norm(grouped, axis=1, keepdims=True)
    found = neighbours.neighbours(grouped, labels, near_k=1, near_floor=0.99, class_k=5)
    far = [i for i, _ in neighbours.far_from_class(labels, found)]
    assert far[0] == 7 and len(far) <= 3, far


def test_confident_learning_flags_the_confidently_other_and_never_the_agreeing():
    from components.data_quality import label_issues

    rng = np.random.RandomState(1)
    labels = np.repeat(np.arange(3), 100)
    probabilities = np.full((300, 3), 0.05, np.float32)
    probabilities[np.arange(300), labels] = 0.9
    probabilities += rng.uniform(0, 0.05, probabilities.shape).astype(np.float32)
    flipped = [3, 150, 299]
    for i, true in zip(flipped, [1, 2, 0]):
        probabilities[i] = 0.03
        probabilities[i, true] = 0.94
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    found = label_issues.confident_learning(probabilities, labels)
    assert sorted(found.flagged) == flipped
    assert 3 <= found.estimated_errors <= 6  # the calibrated joint rounds up: its rows count only confident images
    assert list(found.suggested[flipped]) == [1, 2, 0]
    assert found.accuracy == pytest.approx(297 / 300, abs=1e-3)
    # out-of-sample probabilities need a class in every fold: one image of a class gets no judgement
    vectors = rng.normal(size=(12, 4)).astype(np.float32)
    lonely = label_issues.out_of_sample(vectors, np.array([0] * 11 + [1]), classes=2)
    assert lonely.shape == (12, 2) and np.isfinite(lonely).all()
    with pytest.raises(ValueError, match="near_duplicate_candidates 0"):
        QualityOptions(near_duplicate_candidates=0)


def _shapes(seed: int, size=(48, 40)) -> Image.Image:
    """Flat ellipses on a gradient: a kind of picture unlike either photo."""
    image = Image.new("RGB", size, (30 + seed % 50, 60, 90))
    draw = ImageDraw.Draw(image)
    for k in range(3):
        x, y = (seed * 7 + k * 13) % (size[0] - 12), (seed * 5 + k * 11) % (size[1] - 12)
        draw.ellipse([x, y, x + 12, y + 10], fill=((seed * 37 + k * 80) % 256, (seed * 91) % 256, (k * 120) % 256))
    return image


def labelled_folder(root):
    """Three classes that look unlike each other (tiles of each photo, drawn shapes), 30 train
    and 8 eval images each; two china tiles filed under flower and one shapes picture under china
    (label flips), and a noise picture among the shapes (far from its class)."""
    tiles = {name: list(_contrasted_tiles(photo, (48, 40))) for name, photo in zip(("china", "flower"), _photos())}
    pictures = {"china": tiles["china"][:38], "flower": tiles["flower"][:38], "shapes": [_shapes(s) for s in range(38)]}
    flips = {"train/flower/flip_0.png": tiles["china"][40], "train/flower/flip_1.png": tiles["china"][42],
             "train/china/flip_2.png": _shapes(50)}  # fmt: skip
    for name, images in pictures.items():
        for i, image in enumerate(images):
            split = "train" if i < 30 else "eval"
            (root / split / name).mkdir(parents=True, exist_ok=True)
            image.save(root / split / name / f"{i:02d}.png")
    for relative, image in flips.items():
        image.save(root / relative)
    noise = np.random.RandomState(0).randint(0, 256, (40, 48, 3), np.uint8)
    Image.fromarray(noise).save(root / "train/shapes/noise.png")
    return root, sorted(flips)


def test_label_flips_and_an_image_far_from_its_class_are_found_from_embeddings(tmp_path):
    root, flips = labelled_folder(tmp_path / "images")
    global CLASSES
    classes = ["china", "flower", "shapes"]
    saved, CLASSES = CLASSES, classes  # write_examples labels by this list
    try:
        patterns = write_examples(root, tmp_path / "examples")
    finally:
        CLASSES = saved
    quality, _ = run_checks(patterns, tmp_path / "quality", class_names=classes)
    check = quality.label_check
    assert check.judged and check.folds == 5 and check.classifier_balanced_accuracy > 0.9, check
    flagged = [issue.path for issue in quality.label_issues]
    assert set(flips) <= set(flagged[: len(flips) + 1]), flagged  # the flips lead the list
    assert len(flagged) <= len(flips) + 2, flagged
    by_path = {issue.path: issue for issue in quality.label_issues}
    assert by_path["train/flower/flip_0.png"].suggested == "china" and by_path["train/china/flip_2.png"].suggested == "shapes"
    assert [i.score for i in quality.label_issues] == sorted(i.score for i in quality.label_issues)
    far = [o.path for o in quality.outliers if o.kind == "far_from_class"]
    assert "train/shapes/noise.png" in far and len(far) <= 2, far
    assert quality.counts.label_issues == len(flagged)
    assert any("may be filed under the wrong class" in line for line in quality.findings)
    section = quality_section(quality, lambda relative: None)
    assert "Possibly mislabelled" in section and "flip_0.png" in section


@pytest.mark.e2e
def test_drop_label_issues_leaves_them_out_and_lists_each_one(tmp_path):
    root, flips = labelled_folder(tmp_path / "images")
    summary, stdout = run_pipeline(root, tmp_path / "out", "--epochs", "1", NO_EDGE, "--drop-label-issues")
    quality, account = summary["data_quality"], summary["ingestion"]
    flagged = [issue["path"] for issue in quality["label_issues"]]
    assert set(flips) <= set(flagged) and quality["label_check"]["judged"]
    assert set(quality["label_issues"][0]) == {"path", "split", "given", "suggested", "score"}
    dropped = {d["path"]: d["reason"] for d in account["dropped"]}
    assert sorted(dropped) == sorted(flagged) and all(r.startswith("label issue: filed as") for r in dropped.values())
    assert account["files_seen"] == account["ingested"] + len(account["rejected"]) + len(account["dropped"])
    assert account["files_seen"] == len(list(root.rglob("*.png")))
    assert summary["components"]["DropLabelIssues"] == "COMPLETE"
    assert f"{len(flagged)} label issue" in stdout and "dropped (--drop-label-issues)" in stdout
    with open(summary["report_html"], encoding="utf-8") as f:
        page = f.read()
    assert f"Dropped as label issues ({len(flagged)}, --drop-label-issues)" in page and "Possibly mislabelled" in page
    # What the Trainer read: the examples without them.
    from components import artifacts

    cleaned = glob.glob(str(tmp_path / "out" / "pipeline_root" / "DropLabelIssues" / "cleaned" / "*"))[0]
    paths = {batch_path for batch in artifacts.image_example_batches(cleaned + "/Split-*/*") for batch_path in batch.paths}
    assert len(paths) == account["ingested"] and not paths & set(flagged)
