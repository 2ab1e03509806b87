"""A corpus of awkward image files, made in memory: one builder per case, nothing downloaded."""
import io
import struct
import zlib

import numpy as np
from PIL import Image


def _rgb(width=24, height=20, seed=0) -> Image.Image:
    pixels = np.random.RandomState(seed).randint(0, 256, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png() -> bytes:
    return encode(_rgb(), "PNG")


def jpeg() -> bytes:
    return encode(_rgb(), "JPEG")


def bomb_png(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (the IHDR is rewritten, CRC fixed)."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    return bytes(data)


def animated_gif(frames=3) -> bytes:
    images = [_rgb(seed=i).convert("P") for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:])


def sixteen_bit_png() -> bytes:
    return encode(Image.fromarray((np.arange(480).reshape(20, 24) * 100).astype(np.uint16)), "PNG")


# name -> (file name, bytes). Rejected cases first, then cases that are ingested.
REJECTED = {
    "zero_bytes": ("empty.png", lambda: b""),
    "text_with_image_extension": ("notes.jpg", lambda: b"these are not pixels\n" * 20),
    "truncated_png": ("truncated.png", lambda: png()[:200]),
    "truncated_jpeg": ("truncated.jpg", lambda: jpeg()[:300]),
    "truncated_bmp": ("truncated.bmp", lambda: encode(_rgb(), "BMP")[:300]),
    "tiff_named_png": ("scan.png", lambda: encode(_rgb(), "TIFF")),
    "webp_named_jpg": ("photo.jpg", lambda: encode(_rgb(), "WEBP")),
    "one_bit_bmp": ("mono.bmp", lambda: encode(_rgb().convert("1"), "BMP")),
    "decompression_bomb": ("bomb.png", bomb_png),
}
REJECT_REASONS = {
    "zero_bytes": r"^empty file \(0 bytes\)",
    "text_with_image_extension": r"^not a readable image .*cannot identify image file",
    "truncated_png": r"^cannot be decoded .*truncated or corrupt",
    "truncated_jpeg": r"^not a readable image",
    "truncated_bmp": r"^cannot be decoded .*truncated or corrupt",
    "tiff_named_png": r"^TIFF image: the model reads PNG, JPEG, GIF, BMP only",
    "webp_named_jpg": r"^WEBP image: the model reads PNG, JPEG, GIF, BMP only",
    "one_bit_bmp": r"^cannot be decoded .*BMP variant TensorFlow does not read",
    "decompression_bomb": r"^100000 x 100000 = 10,000,000,000 pixels, over the limit of 50,000,000",
}
INGESTED = {
    "cmyk_jpeg": ("cmyk.jpg", lambda: encode(_rgb().convert("CMYK"), "JPEG")),
    "sixteen_bit_png": ("deep.png", sixteen_bit_png),
    "rgba_png": ("alpha.png", lambda: encode(_rgb().convert("RGBA"), "PNG")),
    "palette_png": ("palette.png", lambda: encode(_rgb().convert("P"), "PNG")),
    "palette_with_transparency": ("clear.png", lambda: encode(_rgb().convert("P"), "PNG", transparency=0)),
    "grayscale_jpeg": ("gray.jpeg", lambda: encode(_rgb().convert("L"), "JPEG")),
    "progressive_jpeg": ("progressive.jpg", lambda: encode(_rgb(), "JPEG", progressive=True)),
    "animated_gif": ("moving.gif", animated_gif),
    "png_named_jpg": ("misnamed.jpg", png),
}
INGESTED_NOTES = {
    "cmyk_jpeg": ["CMYK: converted to RGB"],
    "sixteen_bit_png": ["I;16 samples: reduced to 8 bits"],
    "rgba_png": ["transparency is dropped: transparent pixels show their stored colour"],
    "palette_png": [],
    "palette_with_transparency": ["transparency is dropped: transparent pixels show their stored colour"],
    "grayscale_jpeg": [],
    "progressive_jpeg": [],
    "animated_gif": ["animated GIF with 3 frames: the first frame is used"],
    "png_named_jpg": [],
}
