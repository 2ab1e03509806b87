"""ImageNet weights for the backbones: Keras' own files, in Keras' own cache, fetched once.

`--pretrained-weights imagenet` asks Keras for the official no-top weights file of the backbone.
Keras keeps it in `$KERAS_HOME/models/` (default `~/.keras/models/`; tf_keras' `get_file` itself
ignores KERAS_HOME, so it is passed explicitly) and later runs load it from there without the
network. A machine without internet needs the file put there by hand (or named
with `--pretrained-weights FILE`): `WeightsUnavailableError` says which file and where.

Keras checks a hash for EfficientNet's files (a file that is not the official one is fetched
again) and none for MobileNetV2's.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Optional

MOBILENET_V2_SIZES = (96, 128, 160, 192, 224)  # Keras has MobileNetV2 weights for these input sizes


class WeightsUnavailableError(RuntimeError):
    """The ImageNet weights are neither in Keras' cache nor downloadable."""


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    file_name: str
    url: str
    file_hash: Optional[str]  # what Keras checks the file against, when it checks

    @property
    def cache_path(self) -> str:
        """Where Keras looks for the file first (`get_file(..., cache_subdir="models")`)."""
        keras_home = keras_cache_dir()
        if not os.access(keras_home, os.W_OK):
            keras_home = os.path.join("/tmp", ".keras")  # Keras' own fallback where it cannot write
        return os.path.join(keras_home, "models", self.file_name)


def keras_cache_dir() -> str:
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def imagenet_weights(backbone: str, image_size: int) -> WeightsFile:
    """The file Keras loads for `backbone` ('mobilenet_v2', 'efficientnet_b0', 'transfer')."""
    if backbone in ("mobilenet_v2", "transfer"):
        # Keras takes the 224 px file for sizes it has no file for; the weights fit any size.
        rows = image_size if image_size in MOBILENET_V2_SIZES else 224
        name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5"
        return WeightsFile(name, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/" + name, None)
    if backbone == "efficientnet_b0":
        from tf_keras.src.applications import efficientnet

        name = "efficientnetb0_notop.h5"
        return WeightsFile(name, efficientnet.BASE_WEIGHTS_PATH + name, efficientnet.WEIGHTS_HASHES["b0"][1])
    raise ValueError(f"{backbone!r} has no ImageNet weights: it trains from scratch.")


def ensure_imagenet_weights(backbone: str, image_size: int) -> str:
    """The local path of the backbone's ImageNet weights, downloading them into Keras' cache once.

    Raises WeightsUnavailableError, one line naming the file, its address and where to put it, when
    the file is not cached and cannot be downloaded.
    """
    import tensorflow as tf

    weights = imagenet_weights(backbone, image_size)
    try:
        return tf.keras.utils.get_file(
            weights.file_name, weights.url, cache_subdir="models", file_hash=weights.file_hash, cache_dir=keras_cache_dir()
        )
    except Exception as error:  # noqa: BLE001 - Keras raises a bare Exception for a failed fetch
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise WeightsUnavailableError(
            f"--pretrained-weights imagenet: the {backbone} weights are not in Keras' cache and could not be "
            f"downloaded ({reason}). Fetch {weights.url} on a machine with internet and put it at "
            f"{weights.cache_path}, or name a local weights file with --pretrained-weights FILE."
        ) from None
