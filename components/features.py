"""Feature keys, split names and serving signatures: the one place they are spelled.

Artifact file names, artifact types and the records steps hand each other are in `artifacts.py`.
"""

# Raw tf.Example features written by the image ExampleGen.
IMAGE_KEY = "image_bytes"  # encoded image file bytes (PNG, JPEG, GIF or BMP)
LABEL_KEY = "label"  # int64 class index, following sorted class names
CLASS_NAME_KEY = "class_name"  # the class folder's name
PATH_KEY = "image_path"  # path relative to the data dir, '/'-separated
IMAGE_FORMAT_KEY = "image_format"  # png, jpeg, gif or bmp, from the file's header
IMAGE_WIDTH_KEY = "image_width"  # pixels, from the file's header
IMAGE_HEIGHT_KEY = "image_height"
# Fingerprints and measures of the decoded image (image_example_gen/fingerprints.py).
PIXEL_HASH_KEY = "pixel_hash"  # SHA-256 of the decoded pixels, hex: equal for the same picture
PERCEPTUAL_HASH_KEY = "perceptual_hash"  # 64-bit DCT hash: a few bits apart for near copies
CROP_HASHES_KEY = "crop_hashes"  # the pHashes of nine 5% crops: meet a cropped copy's hash
THUMBNAIL_KEY = "gray_thumbnail"  # luminance, at most 32 x 32, row by row: confirms a near copy
BRIGHTNESS_KEY = "brightness"  # mean luminance in [0, 1]
CONTRAST_KEY = "contrast"  # standard deviation of the luminance in [0, 1]
SHARPNESS_KEY = "sharpness"  # variance of the Laplacian of the luminance: low is blurry or flat

# Transformed features produced by the Transform component.
# float32 [height, width, channels] in [0, 1] from the graph; rounded to uint8 pixels for the model
# (preprocessing.to_pixels), which scales them back.
TRANSFORMED_IMAGE_KEY = "image"
TRANSFORMED_LABEL_KEY = "label"

TRAIN_SPLIT = "train"
EVAL_SPLIT = "eval"
UNLABELLED_SPLIT = "unlabelled"  # batch prediction's one split: images without labels

# Serving signatures.
SERVING_SIGNATURE = "serving_default"  # serialized tf.Example -> probabilities
IMAGE_SIGNATURE = "serving_images"  # raw encoded image bytes -> probabilities, class index, name
EXPLAIN_SIGNATURE = "serving_explain"  # raw encoded image bytes -> the above, plus heatmap and pixels
PROBABILITIES_OUTPUT = "probabilities"
HEATMAP_OUTPUT = "heatmap"  # Grad-CAM for the predicted class, [batch, height, width] in [0, 1]
PIXELS_OUTPUT = "pixels"  # the uint8 pixels the model saw, [batch, height, width, channels]
