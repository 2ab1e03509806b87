"""create_batch_pipeline(...): the batch-prediction DAG, beside the training DAG in dag.py.

ImageExampleGen (unlabelled) -> ModelImporter -> BulkInferrer -> PredictionWriter. Nothing is
read from the images or the model here.
"""
from __future__ import annotations

from typing import Optional

from ml_metadata.proto import metadata_store_pb2
from tfx.dsl.components.common.importer import Importer
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import bulk_inferrer_pb2
from tfx.types import standard_artifacts

from components import features
from components.batch_prediction.component import BulkInferrer, PredictionWriter
from components.image_example_gen.component import unlabelled_image_example_gen
from pipeline.config import PipelineConfig

# Node ids: the names components have in ML Metadata and the output folders.
EXAMPLE_GEN, IMPORTER, BULK_INFERRER, WRITER = "ImageExampleGen", "ModelImporter", "BulkInferrer", "PredictionWriter"


def create_batch_pipeline(
    images: str,
    model_dir: str,
    config: PipelineConfig,
    metadata_connection_config: Optional[metadata_store_pb2.ConnectionConfig] = None,
) -> Pipeline:
    """The images under `images` classified by the served model in `model_dir`; `config` gives
    the ingestion limits, the prediction options and where and how it runs."""
    example_gen = unlabelled_image_example_gen(images, config.ingestion).with_id(EXAMPLE_GEN)
    model = Importer(source_uri=model_dir, artifact_type=standard_artifacts.Model).with_id(IMPORTER)
    inferrer = BulkInferrer(
        examples=example_gen.outputs["examples"],
        model=model.outputs["result"],
        data_spec=bulk_inferrer_pb2.DataSpec(),
        model_spec=bulk_inferrer_pb2.ModelSpec(model_signature_name=[features.SERVING_SIGNATURE]),
    ).with_id(BULK_INFERRER)
    writer = PredictionWriter(
        inference_result=inferrer.outputs["inference_result"],
        examples=example_gen.outputs["examples"],
        model=model.outputs["result"],
        images_root=images,
        options=config.prediction.to_parameter(),
    ).with_id(WRITER)
    return Pipeline(
        pipeline_name=config.runtime.pipeline_name,
        pipeline_root=config.runtime.pipeline_root,
        components=[example_gen, model, inferrer, writer],
        enable_cache=config.runtime.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.runtime.beam_args),
    )
