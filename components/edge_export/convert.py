"""Keras model -> TF Lite (float, or int8 post-training quantised), and running a TF Lite model.

A TF Lite model cannot hold the Transform graph's decode step (tf.io.decode_image has no TF Lite
kernel), so it starts where the Keras model starts: decoded, resized uint8 pixels, [batch, height,
width, channels], 0 to 255 (`transform.preprocessing.input_spec`). Both models keep that uint8 input; the int8 model
quantises everything after it (weights and activations, calibrated on representative images) and
gives float32 probabilities, like the float model.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterable, Optional

import numpy as np
import tensorflow as tf

from components import artifacts

# The EdgeRecord's fields for the two models, and their files.
FLOAT, INT8 = "tflite_float", "tflite_int8"
FILE_NAMES = {FLOAT: artifacts.TFLITE_FLOAT_FILE, INT8: artifacts.TFLITE_INT8_FILE}


@contextlib.contextmanager
def quiet_native_output():
    """TF Lite's converter and interpreter write notes ("Ignored output_format", "Created TensorFlow
    Lite XNNPACK delegate") from C++ straight to the process's stdout and stderr, past Python's
    logging. They are silenced while TensorFlow's log level asks for errors only
    (TF_CPP_MIN_LOG_LEVEL=3, which the commands set unless --verbose)."""
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3":
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def to_tflite(model: tf.keras.Model, representative: Optional[Iterable[np.ndarray]] = None) -> bytes:
    """The model as a TF Lite flatbuffer: float, or int8 when `representative` images are given.

    The model is traced with training=False: its augmentation layers (random flips, rotations)
    are left out, as in the served model. With `representative` (uint8 images [H, W, C]), only
    TF Lite's int8 kernels are allowed, so a model that cannot be quantised whole fails here
    instead of falling back to float ops silently.
    """
    input_spec = model.inputs[0]

    @tf.function(input_signature=[tf.TensorSpec([None, *input_spec.shape[1:]], input_spec.dtype, name="pixels")])
    def infer(pixels):
        return {"probabilities": model(pixels, training=False)}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([infer.get_concrete_function()], model)
    if representative is not None:
        images = list(representative)
        if not images:
            raise ValueError("int8 quantisation needs at least one representative image.")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([image[np.newaxis]] for image in images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.float32
    with quiet_native_output():
        return converter.convert()


class TFLiteClassifier:
    """A TF Lite classifier over uint8 pixel batches; one interpreter, resized to each batch."""

    def __init__(self, model_content: Optional[bytes] = None, model_path: Optional[str] = None, threads: int = 1):
        with quiet_native_output():
            self.interpreter = tf.lite.Interpreter(model_content=model_content, model_path=model_path, num_threads=threads)
            self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        self._batch = None

    @property
    def input_shape(self):
        """(height, width, channels) of one image."""
        return tuple(int(n) for n in self._input["shape"][1:])

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """uint8 [batch, H, W, C] -> float32 [batch, classes]."""
        pixels = np.asarray(pixels, dtype=np.uint8)
        if pixels.shape[1:] != self.input_shape:
            raise ValueError(f"The TF Lite model takes images of {self.input_shape} (H, W, C), not {pixels.shape[1:]}.")
        if self._batch != len(pixels):
            self.interpreter.resize_tensor_input(self._input["index"], list(pixels.shape))
            self.interpreter.allocate_tensors()
            self._batch = len(pixels)
        self.interpreter.set_tensor(self._input["index"], pixels)
        self.interpreter.invoke()
        return np.array(self.interpreter.get_tensor(self._output["index"]), dtype=np.float32)
