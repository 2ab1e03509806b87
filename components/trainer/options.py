"""The Trainer's choices, importable without TensorFlow (the command line validates against them)."""

ARCHITECTURES = ("simple_cnn", "deeper_cnn", "transfer")
# --flip value -> Keras RandomFlip mode
FLIP_MODES = {"none": None, "horizontal": "horizontal", "vertical": "vertical", "both": "horizontal_and_vertical"}
