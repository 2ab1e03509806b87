"""Image fingerprints: the same picture hashes alike however it is stored, near copies land a few
bits apart, unrelated images far apart; brightness, contrast and sharpness mean what they say."""
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from components.image_example_gen.fingerprints import fingerprint, hamming
from components.image_example_gen.ingestion import inspect


def scene(seed: int, size=(200, 150)) -> Image.Image:
    """A photo-like picture: a gradient sky, and shapes placed by the seed."""
    rng = np.random.default_rng(seed)
    width, height = size
    ramp = np.linspace(40, 220, height)[:, None, None] * np.ones((1, width, 3))
    picture = Image.fromarray((ramp * rng.uniform(0.5, 1.0, 3)).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(picture)
    for _ in range(6):
        x, y = rng.integers(0, width - 40), rng.integers(0, height - 40)
        w, h = rng.integers(15, 60, 2)
        fill = tuple(int(v) for v in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h], fill=fill)
    return picture


def encoded(picture: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def of(data: bytes):
    found = inspect(data)
    assert found.reason is None, found.reason
    return found.fingerprint


def test_the_same_pixels_hash_alike_in_any_lossless_file():
    picture = scene(0)
    png, bmp = of(encoded(picture, "PNG")), of(encoded(picture, "BMP"))
    assert png.pixel_hash == bmp.pixel_hash and len(png.pixel_hash) == 32
    assert png.perceptual_hash == bmp.perceptual_hash
    assert of(encoded(scene(1), "PNG")).pixel_hash != png.pixel_hash


def test_near_copies_are_a_few_bits_apart_and_other_pictures_far():
    picture = scene(0)
    original = of(encoded(picture, "PNG"))
    reencoded = of(encoded(picture, "JPEG", quality=75))
    resized = of(encoded(picture.resize((180, 135)), "PNG"))
    cropped = of(encoded(picture.crop((5, 4, 195, 146)), "PNG"))
    assert reencoded.pixel_hash != original.pixel_hash  # not the same pixels any more ...
    for copy in (reencoded, resized, cropped):  # ... but the same picture
        assert hamming(copy.perceptual_hash, original.perceptual_hash) <= 10
    others = [hamming(of(encoded(scene(seed), "PNG")).perceptual_hash, original.perceptual_hash) for seed in range(1, 21)]
    assert min(others) > 12 and np.mean(others) > 20


def test_brightness_contrast_and_sharpness():
    black = of(encoded(Image.new("RGB", (40, 30), (0, 0, 0)), "PNG"))
    white = of(encoded(Image.new("L", (40, 30), 255), "PNG"))
    assert (black.brightness, black.contrast, black.sharpness) == (0.0, 0.0, 0.0)
    assert white.brightness == pytest.approx(1.0) and white.contrast == pytest.approx(0.0, abs=1e-6)
    picture = scene(3)
    sharp = of(encoded(picture, "PNG"))
    blurred = of(encoded(picture.filter(ImageFilter.GaussianBlur(3)), "PNG"))
    assert blurred.sharpness < sharp.sharpness / 5
    assert 0.05 < sharp.contrast < 0.5 and 0.1 < sharp.brightness < 0.9


def test_a_hash_is_a_signed_64_bit_integer_as_tf_example_holds_it():
    hashes = [fingerprint(np.asarray(scene(seed))).perceptual_hash for seed in range(30)]
    assert all(-(2**63) <= h < 2**63 for h in hashes) and any(h < 0 for h in hashes)
    assert hamming(hashes[0], hashes[0]) == 0
