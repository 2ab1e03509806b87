"""Model builders: functions from input shape and class count to an uncompiled tf.keras model.

Every model takes the Transform graph's uint8 pixels and scales them to [0, 1] itself, so the
served graph stays one piece. Architectures:

* simple_cnn: conv-pool blocks flattened into a small dense head, the kind of CNN people start
  with: three blocks at 32 px, and as many as it takes to bring larger images down to 4x4, so the
  head (and the parameter count) stays the same size at any --image-size. (Flatten keeps where a
  feature was seen; on the sample it learns several times faster than global average pooling.)
* deeper_cnn: four blocks of two convolutions with batch normalisation, dropout after each block,
  global average pooling.
* resnet_small: a small residual network (three stages of two residual blocks, 32/64/128 filters,
  batch normalisation, global average pooling): the from-scratch choice for small real datasets,
  where skip connections and normalisation train reliably from the first epochs.
* efficientnet_lite0: EfficientNet-Lite0 with Google's ImageNet weights, which a dependency of
  this project installs (efficientnet_lite.py): a pretrained backbone with no download.
* mobilenet_v2, efficientnet_b0: a Keras application backbone without its top under a new
  classification head; ImageNet weights with --pretrained-weights imagenet (components/trainer/
  weights.py) or a file, else random. `transfer` is mobilenet_v2 under its earlier name.

A pretrained backbone is trained frozen first, then fine-tuned (see `train`). `auto` is resolved
before a model is built (choice.py).

simple_cnn and deeper_cnn start with a strided stem above 64 px: stride-2 convolutions bring a
224 px image to 56 px before the first block, so compute grows little with the image either.
Augmentation is a block of Keras preprocessing layers after the scaling: Keras runs them only in
training, so evaluation and serving see the images as they are.

Importing this module also tells AutoGraph to leave tf_keras alone (`_skip_autograph_for_tf_keras`),
for every model trained in the process.
"""
from __future__ import annotations

import logging
import os
import tempfile
from typing import Optional, Sequence

import tensorflow as tf
from tensorflow.python.autograph.core import config as _autograph_config

from components import features
from components.paths import is_remote
from components.trainer.options import AUTO, ARCHITECTURES, BUNDLED_BACKBONE, FLIP_MODES, IMAGENET, TrainingOptions

BACKBONE_LAYER = "backbone"
POOLED_LAYER = "pooled_features"  # a backbone's globally pooled features, what the new head reads
STEM_TARGET = 64  # larger images go through stride-2 convolutions down to at most this many pixels
HEAD_SIZE = 4  # simple_cnn's blocks go on until the feature map is at most this wide
MIN_BLOCKS = 3


def _skip_autograph_for_tf_keras() -> None:
    """AutoGraph leaves the `keras` package alone (it needs no conversion) but not `tf_keras`, the
    same Keras 2 code under another name: it rewrote all of Keras' training step, about 12 s of
    the first epoch on every run. Same rule for tf_keras; measured 14.3 s -> 1.6 s for 3 epochs."""
    rules = tuple(_autograph_config.CONVERSION_RULES)
    if not any(getattr(r, "_prefix", None) == "tf_keras" for r in rules):
        _autograph_config.CONVERSION_RULES = (_autograph_config.DoNotConvert("tf_keras"),) + rules


_skip_autograph_for_tf_keras()


def augmentation(flip: str = "none", strength: float = 1.0) -> tf.keras.Sequential:
    """Random flips (only when they keep the label: not for digits or text), and at strength 1
    rotations up to 5% of a full turn, zooms up to 10% and contrast changes up to 10%; `strength`
    scales the three (0: flips only)."""
    if flip not in FLIP_MODES:
        raise ValueError(f"flip {flip!r} must be one of {', '.join(FLIP_MODES)}.")
    layers = []
    if FLIP_MODES[flip]:
        layers.append(tf.keras.layers.RandomFlip(FLIP_MODES[flip]))
    if strength > 0:
        layers += [
            tf.keras.layers.RandomRotation(0.05 * strength, fill_mode="constant"),
            tf.keras.layers.RandomZoom(0.1 * strength, fill_mode="constant"),
            tf.keras.layers.RandomContrast(0.1 * strength),
        ]
    return tf.keras.Sequential(layers, name="augmentation")


def _stem(x, filters: int = 32):
    """Stride-2 convolutions until the image is at most STEM_TARGET pixels wide; none below it."""
    step = 0
    while x.shape[1] > STEM_TARGET:
        x = tf.keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu", name=f"stem_{step}")(x)
        step += 1
    return x


def _simple_cnn(x, dropout: float = 0.3):
    x = _stem(x)
    filters, blocks = 32, 0
    # 32 px: 32 -> 16 -> 8 -> 4, three blocks; 224 px: 56 after the stem -> 28 -> 14 -> 7 -> 3.
    while x.shape[1] > HEAD_SIZE or (blocks < MIN_BLOCKS and x.shape[1] >= 2):
        x = tf.keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = tf.keras.layers.MaxPooling2D()(x)
        filters, blocks = min(2 * filters, 128), blocks + 1
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(128, activation="relu")(x)
    return tf.keras.layers.Dropout(dropout)(x)


def _deeper_cnn(x, dropout: float = 0.4):
    x = _stem(x)
    for filters in (32, 64, 128, 256):
        for _ in range(2):
            x = tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            # Momentum 0.9 (not Keras' 0.99): the running statistics used at inference must settle
            # within the few hundred steps a small dataset gives.
            x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
            x = tf.keras.layers.Activation("relu")(x)
        x = tf.keras.layers.MaxPooling2D()(x) if x.shape[1] >= 2 else x
        x = tf.keras.layers.Dropout(0.2)(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dense(128, activation="relu")(x)
    return tf.keras.layers.Dropout(dropout)(x)


def _conv_bn(x, filters: int, strides: int = 1, relu: bool = True):
    x = tf.keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)  # momentum: see _deeper_cnn
    return tf.keras.layers.Activation("relu")(x) if relu else x


def _residual_block(x, filters: int, strides: int):
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = tf.keras.layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
        shortcut = tf.keras.layers.BatchNormalization(momentum=0.9)(shortcut)
    y = _conv_bn(_conv_bn(x, filters, strides), filters, relu=False)
    return tf.keras.layers.Activation("relu")(tf.keras.layers.Add()([shortcut, y]))


def _resnet_small(x, dropout: float = 0.2):
    x = _stem(x)
    x = _conv_bn(x, 32)
    for stage, filters in enumerate((32, 64, 128)):
        # Halve the map at each new stage while it is at least 8 wide (a 28 px image: 28, 14, 7).
        x = _residual_block(x, filters, 2 if stage and x.shape[1] >= 8 else 1)
        x = _residual_block(x, filters, 1)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    return tf.keras.layers.Dropout(dropout)(x)


def _local_copy(path: str) -> str:
    """Keras reads weights files with h5py, from local disk only: a gs:// file is copied first."""
    if not is_remote(path):
        return path
    local = os.path.join(tempfile.mkdtemp(prefix="weights-"), os.path.basename(path))
    tf.io.gfile.copy(path, local, overwrite=True)
    return local


def _backbone_weights(architecture: str, image_size: int, pretrained_weights: Optional[str]) -> Optional[str]:
    """The local weights file the backbone loads, or None for random weights."""
    if not pretrained_weights:
        logging.warning(
            "%s: no --pretrained-weights given; the backbone starts from random weights "
            "(--pretrained-weights imagenet starts from ImageNet's).",
            architecture,
        )
        return None
    if pretrained_weights == IMAGENET:
        from components.trainer.weights import ensure_imagenet_weights

        return ensure_imagenet_weights(architecture, image_size)
    return _local_copy(pretrained_weights)


def _transfer(x, architecture: str, input_shape: Sequence[int], pretrained_weights: Optional[str], dropout: float = 0.3):
    if input_shape[-1] == 1:
        x = tf.keras.layers.Concatenate()([x, x, x])  # ImageNet backbones expect RGB
    shape = (input_shape[0], input_shape[1], 3)
    if architecture == BUNDLED_BACKBONE:
        from components.backbone import efficientnet_lite

        backbone = efficientnet_lite.backbone(shape, BACKBONE_LAYER)  # scales [0, 1] as it was trained
        pooled = tf.keras.layers.GlobalAveragePooling2D(name=POOLED_LAYER)(backbone(x, training=False))
        return tf.keras.layers.Dropout(dropout)(pooled)
    weights = _backbone_weights(architecture, input_shape[0], pretrained_weights)
    if architecture == "efficientnet_b0":
        # EfficientNet scales and normalises its input itself, from [0, 255].
        backbone = tf.keras.applications.EfficientNetB0(input_shape=shape, include_top=False, weights=weights)
        x = tf.keras.layers.Rescaling(255.0)(x)
    else:
        backbone = tf.keras.applications.MobileNetV2(input_shape=shape, include_top=False, weights=weights)
        x = tf.keras.layers.Rescaling(2.0, offset=-1.0)(x)  # MobileNetV2 takes [-1, 1]
    backbone._name = BACKBONE_LAYER
    # Pretrained: training=False keeps the backbone's batch-norm statistics, also while fine-tuning.
    # Random: the backbone has nothing to keep and trains like any other layer.
    x = backbone(x, training=False) if weights else backbone(x)
    x = tf.keras.layers.GlobalAveragePooling2D(name=POOLED_LAYER)(x)
    return tf.keras.layers.Dropout(dropout)(x)


def build_model(
    architecture: str,
    input_shape: Sequence[int],
    num_classes: int,
    augment: bool = False,
    flip: str = "none",
    pretrained_weights: Optional[str] = None,
    dropout: Optional[float] = None,
    augment_strength: float = 1.0,
) -> tf.keras.Model:
    """Input: uint8 pixels named like the transformed feature; output: class probabilities.

    `dropout` is the rate before the classification layer (None: the architecture's own);
    `pretrained_weights` (backbones only) is a weights file or "imagenet".

    The output layer computes in float32 whatever the global precision policy (mixed_float16 on a
    GPU), so the probabilities keep full precision.
    """
    if num_classes < 2:
        raise ValueError(f"A classifier needs at least 2 classes, got {num_classes}.")
    if architecture not in ARCHITECTURES or architecture == AUTO:
        raise ValueError(f"architecture {architecture!r} must be one of {', '.join(ARCHITECTURES[1:])}.")
    inputs = tf.keras.Input(shape=tuple(input_shape), name=features.TRANSFORMED_IMAGE_KEY, dtype=tf.uint8)
    x = tf.keras.layers.Rescaling(1.0 / 255, name="to_unit_range")(inputs)
    x = augmentation(flip, augment_strength)(x) if augment else x
    head = {} if dropout is None else {"dropout": dropout}
    if architecture == "simple_cnn":
        x = _simple_cnn(x, **head)
    elif architecture == "deeper_cnn":
        x = _deeper_cnn(x, **head)
    elif architecture == "resnet_small":
        x = _resnet_small(x, **head)
    else:
        x = _transfer(x, architecture, input_shape, pretrained_weights, **head)
    outputs = tf.keras.layers.Dense(
        num_classes, activation="softmax", name=features.PROBABILITIES_OUTPUT, dtype="float32"
    )(x)
    return tf.keras.Model(inputs, outputs, name=architecture)



def model_for(options: TrainingOptions, input_shape: Sequence[int], num_classes: int) -> tf.keras.Model:
    """`build_model` with the architecture, augmentation, weights and dropout `options` name."""
    return build_model(
        options.architecture,
        input_shape,
        num_classes,
        augment=options.augment,
        flip=options.flip,
        pretrained_weights=options.pretrained_weights,
        dropout=options.dropout,
        augment_strength=options.augment_strength,
    )
