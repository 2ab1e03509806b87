"""The image ExampleGen: TFX's FileBasedExampleGen with our Beam executor."""
from __future__ import annotations

from typing import Iterable, Optional, Tuple, Union

from tfx.components import FileBasedExampleGen
from tfx.components.example_gen import driver, input_processor
from tfx.dsl.components.base import executor_spec
from tfx.orchestration import data_types
from tfx.proto import example_gen_pb2, range_config_pb2

from components import features
from components.image_example_gen import cache_key, executor
from components.image_example_gen.options import IngestionLimits
from components.image_example_gen.layout import detect_layout, unlabelled_layout


# What the examples hold; a new value re-runs ExampleGen over data an older version ingested
# (2: the fingerprint features; 3: crop hashes and the luminance thumbnail).
EXAMPLES_VERSION = 3


class _ImageFolderInputProcessor(input_processor.FileBasedInputProcessor):
    """Adds the image listing's fingerprint to TFX's, so renamed files and class folders re-run
    ExampleGen instead of being served stale from the cache, and the examples' version, so that
    examples without newer features are not either."""

    read_layout = staticmethod(detect_layout)

    def get_input_fingerprint(self, span: int, version: Optional[int]) -> Optional[str]:
        listing = cache_key.fingerprint(self.read_layout(self._input_base_uri))
        return f"{super().get_input_fingerprint(span, version)},images:{listing},examples:{EXAMPLES_VERSION}"


class _UnlabelledInputProcessor(_ImageFolderInputProcessor):
    read_layout = staticmethod(unlabelled_layout)


class _ImageFolderDriver(driver.FileBasedDriver):
    INPUT_PROCESSOR = _ImageFolderInputProcessor

    def get_input_processor(
        self,
        splits: Iterable[example_gen_pb2.Input.Split],
        range_config: Optional[range_config_pb2.RangeConfig] = None,
        input_base_uri: Optional[str] = None,
    ) -> input_processor.InputProcessor:
        return self.INPUT_PROCESSOR(input_base_uri, splits, range_config)


class _UnlabelledDriver(_ImageFolderDriver):
    INPUT_PROCESSOR = _UnlabelledInputProcessor


class ImageExampleGen(FileBasedExampleGen):
    """FileBasedExampleGen whose cache key covers every image's path and class."""

    DRIVER_CLASS = _ImageFolderDriver


class UnlabelledImageExampleGen(FileBasedExampleGen):
    """The same over a folder of images without labels (batch prediction)."""

    DRIVER_CLASS = _UnlabelledDriver


def image_example_gen(
    input_base: Union[str, data_types.RuntimeParameter],
    hash_buckets: Tuple[int, int],
    limits: IngestionLimits = IngestionLimits(),
) -> ImageExampleGen:
    """ExampleGen over the image folders at `input_base` (a path, or a runtime parameter).

    The layout is read when the component runs, not here, so a pipeline compiles without access
    to the data: with train/ and eval/ folders the splits are taken as they are; with class
    folders only, each image goes to train or eval by a hash of its relative path (`hash_buckets`
    = train, eval), so a file stays in its split across runs and when other files are added.

    Files that cannot be ingested are rejected one by one (see `ingestion`); more than
    `limits.max_rejected_fraction` of them stops the run.
    """
    train_buckets, eval_buckets = hash_buckets
    return ImageExampleGen(
        input_base=input_base,
        # One input split over the whole data dir (its pattern only feeds TFX's own fingerprint);
        # the executor decides each image's split.
        input_config=example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="images", pattern="*/*")]),
        output_config=example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[
                    example_gen_pb2.SplitConfig.Split(name=features.TRAIN_SPLIT, hash_buckets=train_buckets),
                    example_gen_pb2.SplitConfig.Split(name=features.EVAL_SPLIT, hash_buckets=eval_buckets),
                ],
                partition_feature_name=features.PATH_KEY,
            )
        ),
        custom_config=executor.limits_config(limits),
        custom_executor_spec=executor_spec.BeamExecutorSpec(executor.Executor),
    )


def unlabelled_image_example_gen(input_base: str, limits: IngestionLimits = IngestionLimits()) -> UnlabelledImageExampleGen:
    """ExampleGen over every image file under `input_base` (flat or nested), without labels, into
    one split (features.UNLABELLED_SPLIT); files are checked and rejected one by one as in
    training, and more than `limits.max_rejected_fraction` of them stops the run."""
    return UnlabelledImageExampleGen(
        input_base=input_base,
        # "*" (not "*/*"): a flat folder of images has no sub-folder; the pattern only feeds TFX's fingerprint.
        input_config=example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="images", pattern="*")]),
        output_config=example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[example_gen_pb2.SplitConfig.Split(name=features.UNLABELLED_SPLIT, hash_buckets=1)],
                partition_feature_name=features.PATH_KEY,
            )
        ),
        custom_config=executor.limits_config(limits),
        custom_executor_spec=executor_spec.BeamExecutorSpec(executor.UnlabelledExecutor),
    )
