"""Small JPEG thumbnails and heatmap overlays, and the HTML that embeds them (data: URIs).

Thumbnails keep a report one self-contained file: a 64 px JPEG is 1-3 KB, so a few hundred of
them stay well under a megabyte.
"""
from __future__ import annotations

import base64
import io
from typing import Optional

import numpy as np
from PIL import Image

from components.reporting.html import escape

THUMBNAIL_SIZE = 64  # pixels, the longer side
JPEG_QUALITY = 80


def _jpeg(image: Image.Image) -> bytes:
    if image.mode not in ("RGB", "L"):  # palette, alpha, 16-bit: on white, as a browser shows them here
        rgba = image.convert("RGBA")
        image = Image.new("RGB", image.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _fit(image: Image.Image, size: int) -> Image.Image:
    """Scaled so the longer side is `size` pixels, up or down; small images stay sharp (nearest)."""
    scale = size / max(image.size)
    width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    smaller = scale < 1
    return image.resize((width, height), Image.Resampling.LANCZOS if smaller else Image.Resampling.NEAREST)


def thumbnail(image_bytes: bytes, size: int = THUMBNAIL_SIZE) -> Optional[bytes]:
    """A JPEG of the image (PNG, JPEG, GIF or BMP bytes) scaled to `size`; None if it cannot be read."""
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            image.seek(0)  # an animated GIF: its first frame, as the pipeline decodes it
            return _jpeg(_fit(image.copy(), size))
    except (OSError, ValueError):
        return None


def _colour_map(values: np.ndarray) -> np.ndarray:
    """[0, 1] -> RGB in [0, 1]: dark blue through green and yellow to red (a perceptual ramp)."""
    stops = np.array([[0.05, 0.05, 0.45], [0.0, 0.5, 0.9], [0.1, 0.8, 0.3], [1.0, 0.85, 0.0], [0.85, 0.05, 0.05]])
    position = np.clip(values, 0, 1) * (len(stops) - 1)
    low = np.floor(position).astype(int).clip(0, len(stops) - 2)
    t = (position - low)[..., None]
    return stops[low] * (1 - t) + stops[low + 1] * t


def overlay(pixels: np.ndarray, heatmap: np.ndarray, size: int, alpha: float = 0.45) -> Image.Image:
    """The heatmap ([height, width] in [0, 1]) blended over the image the model saw (uint8
    [height, width, channels]), scaled so its longer side is `size`."""
    base = pixels.astype(np.float64) / 255.0
    if base.ndim == 2 or base.shape[-1] == 1:
        base = np.repeat(base.reshape(base.shape[0], base.shape[1], 1), 3, axis=-1)
    blended = (1 - alpha) * base[..., :3] + alpha * _colour_map(heatmap)
    return _fit(Image.fromarray((blended * 255).round().astype(np.uint8), "RGB"), size)


def heatmap_overlay(pixels: np.ndarray, heatmap: np.ndarray, size: int = THUMBNAIL_SIZE) -> bytes:
    """`overlay` as a JPEG thumbnail."""
    return _jpeg(overlay(pixels, heatmap, size))


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def img(jpeg: Optional[bytes], alt: str, title: str = "", size: int = THUMBNAIL_SIZE) -> str:
    """An <img> holding the JPEG itself; a grey box saying so when there is no image."""
    hover = f' title="{escape(title)}"' if title else ""
    if not jpeg:
        return f'<span class="noimg" style="width:{size}px;height:{size}px"{hover}>no image</span>'
    return f'<img class="thumb" alt="{escape(alt)}"{hover} src="{data_uri(jpeg)}">'
