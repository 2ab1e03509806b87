"""create_pipeline(config): the only definition of the DAG, shared by every runner."""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

import tensorflow_model_analysis as tfma
from google.protobuf.wrappers_pb2 import BoolValue
from ml_metadata.proto import metadata_store_pb2
from tfx.components.evaluator.component import Evaluator
from tfx.components.example_validator.component import ExampleValidator
from tfx.components.pusher.component import Pusher
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.components.transform.component import Transform
from tfx.dsl.components.base import executor_spec
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_artifact_strategy import LatestArtifactStrategy
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy
from tfx.orchestration import data_types
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import pusher_pb2
from tfx.types import Channel, standard_artifacts

from components import features
from components.data_quality.component import DataQuality
from components.edge_export.component import EdgeExport
from components.error_analysis.component import ErrorAnalysis
from components.image_example_gen.component import image_example_gen
from components.label_balance.component import LabelBalance
from components.promotion_gate import baseline
from components.promotion_gate.component import PromotionGate
from components.promotion_gate.gate import GateThresholds
from components.promotion_gate.tfma_metrics import CONFIDENCE_THRESHOLDS, THRESHOLDS_METRIC
from components.serving_pusher import executor as serving_pusher
from components.trainer.component import ImageTrainer
from components.trainer.plan import TRAINING_KEY, TUNING_KEY
from components.tuner.component import ImageTuner
from pipeline.config import PipelineConfig

PREPROCESSING_FN = "components.transform.preprocessing.preprocessing_fn"
RUN_FN = "components.trainer.run.run_fn"
TUNER_FN = "components.tuner.tuner.tuner_fn"
ACCURACY_METRIC = "sparse_categorical_accuracy"
TFMA_METRICS_MODULE = "components.promotion_gate.tfma_metrics"

# Node ids: the names components have in ML Metadata, the run summary and the output folders.
EXAMPLE_GEN = "ImageExampleGen"
SCHEMA_GEN = "ImportSchemaGen"
STATISTICS_GEN = "StatisticsGen"
EXAMPLE_VALIDATOR = "ExampleValidator"
DATA_QUALITY = "DataQuality"
LABEL_BALANCE = "LabelBalance"
TRANSFORM = "Transform"
TUNER = "Tuner"
TUNING_RESOLVER = "LatestTuningResolver"
TRAINER = "Trainer"
MODEL_RESOLVER = "LatestBlessedModelResolver"
EVALUATOR = "Evaluator"
PROMOTION_GATE = "PromotionGate"
ERROR_ANALYSIS = "ErrorAnalysis"
PUSHER = "Pusher"
EDGE_EXPORT = "EdgeExport"

# Values a Kubeflow / Vertex run can be started with (name -> type): the data root and the gate's
# thresholds (GateThresholds' fields); the rest is fixed at compile time.
DATA_ROOT_PARAMETER = "data_root"
RUNTIME_PARAMETERS = {DATA_ROOT_PARAMETER: str, **{name: float for name in GateThresholds().parameters()}}


def runtime_parameter_defaults(config: PipelineConfig) -> Dict[str, Any]:
    """Each runtime parameter's value from `config`: what a run uses when it does not set one."""
    return {DATA_ROOT_PARAMETER: config.data.data_dir, **config.gate.parameters()}


def eval_config() -> tfma.EvalConfig:
    """What TFMA computes for the candidate and the last blessed model; the PromotionGate decides.

    The confusion matrix gives per-class recall and precision and the balanced accuracy without
    knowing the number of classes when the pipeline is built; the confusion matrices at confidence
    thresholds 0.1 ... 0.9 give precision and recall when the model answers only above one (the
    report's threshold table). TFMA's default metrics (the model's compiled ones) are off: the
    loss comes from our own metric, without reloading the model.
    """
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                label_key=features.LABEL_KEY,
                signature_name=features.SERVING_SIGNATURE,
                prediction_key=features.PROBABILITIES_OUTPUT,
            )
        ],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(class_name="SparseCategoricalAccuracy"),
                    tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
                    tfma.MetricConfig(
                        class_name="ConfusionMatricesAtThresholds",
                        module=TFMA_METRICS_MODULE,
                        config=json.dumps({"name": THRESHOLDS_METRIC, "thresholds": CONFIDENCE_THRESHOLDS}),
                    ),
                    tfma.MetricConfig(class_name="MacroAveragedRecall", module=TFMA_METRICS_MODULE),
                    tfma.MetricConfig(class_name="SparseCategoricalCrossentropy", module=TFMA_METRICS_MODULE),
                ]
            )
        ],
        options=tfma.Options(include_default_metrics=BoolValue(value=False)),
    )


def create_pipeline(
    config: PipelineConfig,
    metadata_connection_config: Optional[metadata_store_pb2.ConnectionConfig] = None,
    runtime_parameters: Optional[Dict[str, data_types.RuntimeParameter]] = None,
    last_component: Optional[str] = None,
    baseline_excludes_candidate: bool = True,
    reuse_tuning: bool = True,
) -> Pipeline:
    """The image-classification pipeline for `config`; nothing is read from the data here.

    `runtime_parameters` (orchestrators that support them: Kubeflow, Vertex) replace config
    values with values given when a run starts; keys are in RUNTIME_PARAMETERS. `last_component`
    (a node id) builds the DAG only up to that node, for example the data steps up to TRANSFORM.
    The candidate is compared with the latest blessed model other than itself, so that a re-run
    with nothing changed is cached through the Pusher (components/promotion_gate/baseline.py);
    `baseline_excludes_candidate=False` takes TFX's LatestBlessedModelStrategy instead, the only
    one KubeflowV2DagRunner compiles, which compares a cached candidate with itself.
    `reuse_tuning=False` leaves out the resolver that finds the latest tuning of earlier runs:
    KubeflowV2DagRunner compiles its query by artifact type alone, which LabelBalance's training
    hints share with the Tuner's result.
    """
    unknown = set(runtime_parameters or {}) - set(RUNTIME_PARAMETERS)
    if unknown:
        raise ValueError(f"Unknown runtime parameters {sorted(unknown)}; known: {', '.join(RUNTIME_PARAMETERS)}.")
    params = {**runtime_parameter_defaults(config), **(runtime_parameters or {})}
    example_gen = image_example_gen(
        params[DATA_ROOT_PARAMETER], config.data.hash_buckets, config.ingestion
    ).with_id(EXAMPLE_GEN)
    schema_gen = ImportSchemaGen(schema_file=config.data.schema_file).with_id(SCHEMA_GEN)
    statistics_gen = StatisticsGen(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"]
    ).with_id(STATISTICS_GEN)
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    ).with_id(EXAMPLE_VALIDATOR)
    data_quality = DataQuality(examples=example_gen.outputs["examples"], **config.quality.parameters()).with_id(
        DATA_QUALITY
    )
    label_balance = LabelBalance(
        examples=example_gen.outputs["examples"],
        quality=data_quality.outputs["quality"],
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_gen.outputs["schema"],
        anomalies=example_validator.outputs["anomalies"],
        **config.balance.parameters(),
    ).with_id(LABEL_BALANCE)
    transform = Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        # No transformed examples: the graph (decode, resize, 8-bit pixels) needs no statistics of
        # the data, so TFX writes it without a pass over the data, and the Trainer applies it to
        # the raw examples (components/trainer/inputs.py). Materialised, 224 px photos took 5x the
        # raw examples' disk as float32. StatisticsGen already describes the raw data.
        materialize=False,
        disable_statistics=True,
        custom_config=config.image.to_custom_config(),
    ).with_id(TRANSFORM)
    trainer_config = {TRAINING_KEY: config.training.to_custom_config(), TUNING_KEY: config.tuning.to_custom_config()}
    tuning_nodes = []
    if config.tuning.tune:
        tuner = ImageTuner(
            examples=example_gen.outputs["examples"],
            transform_graph=transform.outputs["transform_graph"],
            training_hints=label_balance.outputs["training_hints"],
            tuner_fn=TUNER_FN,
            custom_config=trainer_config,
        ).with_id(TUNER)
        tuning_nodes, best_hyperparameters = [tuner], tuner.outputs["best_hyperparameters"]
    elif config.tuning.reuse_tuning and reuse_tuning:
        # The latest tuning result of this pipeline, from an earlier run with --tune; run_fn uses
        # it only for the same data and search space (components/tuner/search_space.py).
        latest_tuning = Resolver(
            strategy_class=LatestArtifactStrategy,
            hyperparameters=Channel(
                type=standard_artifacts.HyperParameters, producer_component_id=TUNER, output_key="best_hyperparameters"
            ),
        ).with_id(TUNING_RESOLVER)
        tuning_nodes, best_hyperparameters = [latest_tuning], latest_tuning.outputs["hyperparameters"]
    else:
        best_hyperparameters = None
    trainer = ImageTrainer(
        run_fn=RUN_FN,
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        training_hints=label_balance.outputs["training_hints"],
        hyperparameters=best_hyperparameters,
        custom_config=trainer_config,
    ).with_id(TRAINER)
    blessed_models = {
        baseline.MODEL_KEY: Channel(type=standard_artifacts.Model),
        baseline.BLESSING_KEY: Channel(type=standard_artifacts.ModelBlessing),
    }
    if baseline_excludes_candidate:
        model_resolver = Resolver(
            strategy_class=baseline.LatestBlessedExceptCandidateStrategy,
            **blessed_models,
            **{baseline.CANDIDATE_KEY: trainer.outputs["model"]},
        ).with_id(MODEL_RESOLVER)
    else:
        model_resolver = Resolver(strategy_class=LatestBlessedModelStrategy, **blessed_models).with_id(MODEL_RESOLVER)
    evaluator = Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs[baseline.MODEL_KEY],
        eval_config=eval_config(),
    ).with_id(EVALUATOR)
    error_analysis = ErrorAnalysis(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        evaluation=evaluator.outputs["evaluation"],
        quality=data_quality.outputs["quality"],
        **config.analysis.parameters(),
    ).with_id(ERROR_ANALYSIS)
    promotion_gate = PromotionGate(
        evaluation=evaluator.outputs["evaluation"],
        balance=label_balance.outputs["balance"],
        model=trainer.outputs["model"],
        analysis=error_analysis.outputs["analysis"],
        **{name: params[name] for name in config.gate.parameters()},
    ).with_id(PROMOTION_GATE)
    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=promotion_gate.outputs["blessing"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=config.runtime.serving_dir)
        ),
        custom_executor_spec=executor_spec.ExecutorClassSpec(serving_pusher.Executor),
    ).with_id(PUSHER)

    edge_export = EdgeExport(
        model=trainer.outputs["model"],
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        pushed_model=pusher.outputs["pushed_model"],
        base_directory=config.runtime.edge_dir,
        **config.edge.parameters(),
    ).with_id(EDGE_EXPORT)

    components = [
        example_gen,
        schema_gen,
        statistics_gen,
        example_validator,
        data_quality,
        label_balance,
        transform,
        *tuning_nodes,
        trainer,
        model_resolver,
        evaluator,
        error_analysis,
        promotion_gate,
        pusher,
        edge_export,
    ]
    if last_component is not None:
        ids = [component.id for component in components]
        if last_component not in ids:
            raise ValueError(f"No component {last_component!r}; the pipeline has {', '.join(ids)}.")
        components = components[: ids.index(last_component) + 1]  # listed in dependency order
    return Pipeline(
        pipeline_name=config.runtime.pipeline_name,
        pipeline_root=config.runtime.pipeline_root,
        components=components,
        enable_cache=config.runtime.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.runtime.beam_args),
    )
