"""Error analysis: the figures agree with scikit-learn and with losses computed directly, memory
stays bounded, and Grad-CAM points at what decides the class."""
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.metrics import average_precision_score, precision_recall_curve

from components.error_analysis.analysis import (
    NO_PREDICTION,
    Mistakes,
    average_precision,
    losses,
    per_class_curves,
    precision_recall_curve as our_curve,
    reliability,
    threshold_table,
)
from components.reporting.images import heatmap_overlay, thumbnail
from components.trainer.explain import Explainer, feature_map_layer
from components.trainer.model import build_model
from components.trainer.options import TrainingOptions
from components.trainer.train import train


def predictions(n=400, classes=5, seed=0, decimals=None):
    """Labels and softmax probabilities that favour the true class, like a half-trained model."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes)) + 1.5 * np.eye(classes)[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    if decimals is not None:  # many tied scores, as a saturated or quantised model gives
        probabilities = probabilities.round(decimals)
    return labels, probabilities.astype(np.float32)


@pytest.mark.parametrize("decimals", [None, 1])
def test_average_precision_and_curve_match_scikit_learn(decimals):
    labels, probabilities = predictions(decimals=decimals)
    for c in range(probabilities.shape[1]):
        is_positive, scores = labels == c, probabilities[:, c]
        assert average_precision(is_positive, scores) == pytest.approx(average_precision_score(is_positive, scores), abs=1e-12)
        precision, recall, thresholds = our_curve(is_positive, scores)
        sk_precision, sk_recall, sk_thresholds = precision_recall_curve(is_positive, scores)
        # scikit-learn lists the thresholds rising and appends the (recall 0, precision 1) end.
        np.testing.assert_allclose(precision, sk_precision[:-1][::-1])
        np.testing.assert_allclose(recall, sk_recall[:-1][::-1])
        np.testing.assert_allclose(thresholds, sk_thresholds[::-1])


def test_per_class_curves_give_no_precision_for_a_class_without_eval_images():
    labels, probabilities = predictions(classes=3)
    labels[labels == 2] = 0
    curves = per_class_curves(labels, probabilities, ["a", "b", "c"])
    assert curves["c"]["average_precision"] is None and curves["c"]["images"] == 0
    assert curves["a"]["curve"][0] == (0.0, 1.0) and curves["a"]["curve"][-1][0] == 1.0  # ends at full recall
    assert len(curves["a"]["curve"]) <= 61


def test_reliability_bins_and_expected_calibration_error():
    # 10 images at confidence 0.95, 6 right; 10 at 0.55, 5 right: ECE = (10*0.35 + 10*0.05) / 20.
    probabilities = np.array([[0.95, 0.05]] * 10 + [[0.55, 0.45]] * 10, dtype=np.float32)
    labels = np.array([0] * 6 + [1] * 4 + [0] * 5 + [1] * 5)
    result = reliability(labels, probabilities)
    assert result["expected_calibration_error"] == pytest.approx(0.2, abs=1e-6)
    filled = [b for b in result["bins"] if b["images"]]
    assert [(b["low"], b["images"]) for b in filled] == [(0.5, 10), (0.9, 10)]
    assert filled[1]["accuracy"] == pytest.approx(0.6) and filled[1]["confidence"] == pytest.approx(0.95)


def test_mistakes_keeps_the_true_top_losses_and_pair_counts_in_bounded_memory():
    labels, probabilities = predictions(n=1000, classes=4, seed=3)
    paths = [f"c{label}/img_{i:04d}.png" for i, label in enumerate(labels)]
    shrunk = []
    mistakes = Mistakes(top=10, per_pair=2, shrink=lambda b: shrunk.append(b) or b[:3])
    for start in range(0, len(labels), 64):  # in batches, as the step streams the eval split
        end = start + 64
        mistakes.add(labels[start:end], probabilities[start:end], paths[start:end], [p.encode() for p in paths[start:end]])

    all_losses = losses(labels, probabilities)
    expected = sorted(zip(all_losses, paths), reverse=True)[:10]
    top = mistakes.top_losses()
    assert [(m.path, m.loss) for m in top] == [(p, pytest.approx(l)) for l, p in expected]
    assert top[0].image == top[0].path.encode()  # the top losses keep whole images, for their heatmaps
    predicted = probabilities.argmax(axis=1)
    for (actual, guess), count, examples in mistakes.most_confused(limit=20):
        members = (labels == actual) & (predicted == guess)
        assert count == members.sum()
        highest = sorted(all_losses[members], reverse=True)[:2]
        assert [m.loss for m in examples] == pytest.approx(highest)
        assert all(len(m.image) == 3 for m in examples)  # pair images are kept as thumbnails
    assert len(shrunk) < 200  # only images that entered a pair's top 2 were shrunk, not all 500 mistakes
    counts = [count for _, count, _ in mistakes.most_confused(limit=20)]
    assert counts == sorted(counts, reverse=True)


def test_threshold_table_from_confusion_matrices_at_thresholds():
    matrices = {
        0.5: {(0, 0): 8.0, (0, 1): 2.0, (1, 1): 9.0, (1, 0): 1.0},
        0.9: {(0, 0): 5.0, (0, NO_PREDICTION): 5.0, (1, 1): 6.0, (1, NO_PREDICTION): 4.0},
    }
    low, high = threshold_table(matrices, ["cat", "dog"])
    assert low["answered"] == 1.0 and low["accuracy_when_answered"] == pytest.approx(17 / 20)
    assert low["per_class"]["cat"] == {"precision": pytest.approx(8 / 9), "recall": pytest.approx(0.8)}
    assert high["answered"] == pytest.approx(11 / 20) and high["accuracy_when_answered"] == 1.0
    assert high["per_class"]["dog"] == {"precision": 1.0, "recall": pytest.approx(0.6)}


def test_thumbnails_read_every_format_and_stay_small():
    for mode, fmt in (("RGB", "PNG"), ("L", "JPEG"), ("P", "GIF"), ("RGBA", "PNG"), ("RGB", "BMP")):
        buffer = io.BytesIO()
        Image.new(mode, (300, 200), 120).save(buffer, format=fmt)
        jpeg = thumbnail(buffer.getvalue())
        with Image.open(io.BytesIO(jpeg)) as image:
            assert image.format == "JPEG" and image.size == (64, 43)
        assert len(jpeg) < 4000
    assert thumbnail(b"not an image") is None
    overlay = heatmap_overlay(np.zeros((28, 28, 1), np.uint8), np.eye(28, dtype=np.float32))
    with Image.open(io.BytesIO(overlay)) as image:
        assert image.size == (64, 64) and image.mode == "RGB"


def with_square(n: int, seed: int, square: bool, size: int = 32):
    """Dark noise images, with a bright 6 px square at a random place when `square`; and where it is."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (n, size, size, 1)).astype(np.uint8)
    boxes = []
    for image in images:
        top, left = rng.integers(0, size - 6, 2)
        if square:
            image[top : top + 6, left : left + 6] = 255
        boxes.append((top, left))
    return images, boxes


@pytest.fixture(scope="module")
def square_model(tmp_path_factory):
    """Class 1: the image has a square; class 0: it has none."""
    (plain, _), (marked, _) = with_square(128, 0, False), with_square(128, 1, True)
    images, labels = np.concatenate([plain, marked]), np.array([0] * 128 + [1] * 128)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(256, seed=0).batch(32)
    result = train(
        data,
        data,
        input_shape=(32, 32, 1),
        num_classes=2,
        model_dir=str(tmp_path_factory.mktemp("square")),
        options=TrainingOptions(architecture="simple_cnn", epochs=8, learning_rate=3e-3, augment=False),
    )
    return result.model


def test_grad_cam_points_at_the_square_that_decides_the_class(square_model):
    images, boxes = with_square(30, 7, True)
    heatmaps, probabilities = Explainer(square_model)(tf.constant(images))
    heatmaps = heatmaps.numpy()
    assert heatmaps.shape == (30, 32, 32) and heatmaps.min() >= 0 and heatmaps.max() <= 1
    assert (probabilities.numpy().argmax(axis=1) == 1).mean() > 0.9
    # The heatmap for "has a square" is hotter on and around the square than elsewhere, for
    # nearly every image (around: the last feature map is 4 x 4, so a cell spans 8 px).
    hotter = []
    for heatmap, (top, left) in zip(heatmaps, boxes):
        near = np.zeros_like(heatmap, dtype=bool)
        near[max(0, top - 4) : top + 10, max(0, left - 4) : left + 10] = True
        hotter.append(heatmap[near].mean() > 2 * heatmap[~near].mean())
    assert np.mean(hotter) >= 0.8


def test_grad_cam_finds_a_feature_map_in_every_architecture():
    for architecture in ("simple_cnn", "deeper_cnn", "resnet_small", "mobilenet_v2"):
        model = build_model(architecture, (64, 64, 3), 3, augment=True)
        layer = feature_map_layer(model)
        assert len(layer.get_output_shape_at(-1)) == 4
        heatmaps, probabilities = Explainer(model)(tf.zeros((2, 64, 64, 3), tf.uint8))
        assert heatmaps.shape == (2, 64, 64)
        np.testing.assert_allclose(probabilities.numpy(), model(tf.zeros((2, 64, 64, 3), tf.uint8), training=False).numpy(), rtol=1e-5)


def test_predict_explain_names_a_model_exported_before_heatmaps(tmp_path, capsys):
    from components import features
    from helpers import write_image
    from pipeline import predict

    module = tf.Module()
    module.serve = tf.function(
        lambda image_bytes: {"probabilities": tf.zeros([tf.shape(image_bytes)[0], 2])},
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    tf.saved_model.save(module, str(tmp_path / "old"), signatures={features.IMAGE_SIGNATURE: module.serve})
    image = write_image(tmp_path / "cat.png")
    assert predict.main(["--model", str(tmp_path / "old"), "--explain", str(image)]) == 2
    error = capsys.readouterr().err
    assert "has no serving_explain signature" in error and "run the pipeline again" in error
    assert not (tmp_path / "explanations").exists()
