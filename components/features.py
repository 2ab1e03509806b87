"""Feature keys, split names and artifact file names: the one place they are spelled."""

# Raw tf.Example features written by the image ExampleGen.
IMAGE_KEY = "image_bytes"  # encoded image file bytes (PNG, JPEG, GIF or BMP)
LABEL_KEY = "label"  # int64 class index, following sorted class names
CLASS_NAME_KEY = "class_name"  # the class folder's name
PATH_KEY = "image_path"  # path relative to the data dir, '/'-separated
IMAGE_FORMAT_KEY = "image_format"  # png, jpeg, gif or bmp, from the file's header
IMAGE_WIDTH_KEY = "image_width"  # pixels, from the file's header
IMAGE_HEIGHT_KEY = "image_height"

# Transformed features produced by the Transform component.
TRANSFORMED_IMAGE_KEY = "image"  # float32 [height, width, channels] in [0, 1]
TRANSFORMED_LABEL_KEY = "label"

TRAIN_SPLIT = "train"
EVAL_SPLIT = "eval"

# Files inside artifacts.
CLASS_NAMES_FILE = "class_names.json"  # in the Examples artifact and in the served model
LABEL_BALANCE_FILE = "label_balance.json"
DATA_REPORT_FILE = "data_report.html"
TRAINING_HINTS_FILE = "training_hints.json"
BEST_MODEL_FILE = "best_model.keras"
HISTORY_FILE = "history.json"
HISTORY_CSV_FILE = "history.csv"
TRAINING_FILE = "training.json"  # the training summary: best epoch, findings, plots

# Serving signatures.
SERVING_SIGNATURE = "serving_default"  # serialized tf.Example -> probabilities
IMAGE_SIGNATURE = "serving_images"  # raw encoded image bytes -> probabilities, class index, name
PROBABILITIES_OUTPUT = "probabilities"
