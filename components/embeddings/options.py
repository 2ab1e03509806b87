"""The Embeddings step's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class EmbeddingOptions(Options):
    """How the Embeddings step runs the bundled backbone over every image.

    The size is fixed and small whatever the training size: the vectors find look-alikes, copies
    and odd labels, which 96 px shows as well as 224 px at a fifth of the cost."""

    embedding_image_size: int = setting(
        96, "images are resized to this square before the backbone embeds them", at_least=32, at_most=512, unit="px"
    )
    embedding_batch_size: int = setting(64, "images the backbone embeds at once", at_least=1, at_most=4096)
    shard_images: int = setting(
        4096, "images per embedding shard file (what one reader holds in memory)", at_least=16, flag="--embedding-shard-images"
    )
