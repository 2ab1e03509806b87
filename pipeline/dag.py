"""create_pipeline(config): the only definition of the DAG, shared by every runner."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional

from ml_metadata.proto import metadata_store_pb2
from tfx.components.evaluator.component import Evaluator
from tfx.components.example_validator.component import ExampleValidator
from tfx.components.pusher.component import Pusher
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.dsl.components.base import executor_spec
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_artifact_strategy import LatestArtifactStrategy
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy
from tfx.orchestration import data_types
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import pusher_pb2
from tfx.types import Channel, standard_artifacts

from components.data_quality.component import DataQuality, DropLabelIssues
from components.drift import resolver as drift_resolver
from components.drift.component import Drift
from components.edge_export.component import EdgeExport
from components.embeddings.component import Embeddings
from components.error_analysis.component import ErrorAnalysis
from components.image_example_gen.component import image_example_gen
from components.label_balance.component import LabelBalance
from components.model_card.component import ModelCard
from components.promotion_gate import baseline
from components.promotion_gate.component import PromotionGate
from components.promotion_gate.eval_config import eval_config
from components.promotion_gate.options import GateThresholds
from components.serving_pusher import executor as serving_pusher
from components.trainer.component import ImageTrainer
from components.trainer.plan import TRAINING_KEY, TUNING_KEY
from components.transform.component import ImageTransform
from components.tuner.component import ImageTuner
from components.tuner.resolver import LatestArtifactOrNothingStrategy
from pipeline.config import PipelineConfig

PREPROCESSING_FN = "components.transform.preprocessing.preprocessing_fn"
RUN_FN = "components.trainer.run.run_fn"
TUNER_FN = "components.tuner.tuner.tuner_fn"

# Node ids: the names components have in ML Metadata, the run summary and the output folders.
EXAMPLE_GEN = "ImageExampleGen"
SCHEMA_GEN = "ImportSchemaGen"
STATISTICS_GEN = "StatisticsGen"
EXAMPLE_VALIDATOR = "ExampleValidator"
EMBEDDINGS = "Embeddings"
SERVED_STATISTICS_RESOLVER = "ServedModelStatisticsResolver"
DRIFT = "Drift"
DATA_QUALITY = "DataQuality"
DROP_LABEL_ISSUES = "DropLabelIssues"
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
MODEL_CARD = "ModelCard"

# Values a Kubeflow / Vertex run can be started with (name -> type): the data root and the gate's
# thresholds (GateThresholds' fields); the rest is fixed at compile time.
DATA_ROOT_PARAMETER = "data_root"
RUNTIME_PARAMETERS = {DATA_ROOT_PARAMETER: str, **{name: float for name in GateThresholds().parameters()}}


def runtime_parameter_defaults(config: PipelineConfig) -> Dict[str, Any]:
    """Each runtime parameter's value from `config`: what a run uses when it does not set one."""
    return {DATA_ROOT_PARAMETER: config.data.data_dir, **config.gate.parameters()}


@dataclasses.dataclass(frozen=True)
class DataSteps:
    """The nodes up to the Transform, whose outputs the later steps read."""

    example_gen: Any
    schema_gen: Any
    statistics_gen: Any
    example_validator: Any
    embeddings: Any
    data_quality: Any
    label_balance: Any
    transform: Any
    drop_label_issues: Any = None  # with --drop-label-issues
    served_statistics: Any = None  # the served model's training statistics (not in compiled pipelines)
    drift: Any = None

    def nodes(self) -> List[Any]:
        """In dependency order."""
        order = ("example_gen", "schema_gen", "statistics_gen", "example_validator", "embeddings", "data_quality",
                 "drop_label_issues", "label_balance", "served_statistics", "drift", "transform")  # fmt: skip
        return [getattr(self, name) for name in order if getattr(self, name) is not None]

    @property
    def examples(self):
        """What the Transform, Trainer and Evaluator read: ExampleGen's examples, or with
        --drop-label-issues the same without the label issues."""
        if self.drop_label_issues is not None:
            return self.drop_label_issues.outputs["cleaned"]
        return self.example_gen.outputs["examples"]


def data_steps(config: PipelineConfig, data_root, compiled_resolvers: bool = False) -> DataSteps:
    """ExampleGen over `data_root` (a path, or a runtime parameter), then statistics, schema,
    validation, embeddings, data quality, label balance, drift from the served model's data (not
    with `compiled_resolvers`: KubeflowV2DagRunner cannot compile a lineage walk), the Transform."""
    example_gen = image_example_gen(data_root, config.data.hash_buckets, config.ingestion).with_id(EXAMPLE_GEN)
    examples = example_gen.outputs["examples"]
    schema_gen = ImportSchemaGen(schema_file=config.data.schema_file).with_id(SCHEMA_GEN)
    schema = schema_gen.outputs["schema"]
    statistics_gen = StatisticsGen(examples=examples, schema=schema).with_id(STATISTICS_GEN)
    example_validator = ExampleValidator(statistics=statistics_gen.outputs["statistics"], schema=schema).with_id(
        EXAMPLE_VALIDATOR
    )
    embeddings = Embeddings(examples=examples, options=config.embeddings.to_parameter()).with_id(EMBEDDINGS)
    data_quality = DataQuality(
        examples=examples, embeddings=embeddings.outputs["embeddings"], options=config.quality.to_parameter()
    ).with_id(DATA_QUALITY)
    drop_label_issues, used = None, examples
    if config.quality.drop_label_issues:
        drop_label_issues = DropLabelIssues(examples=examples, quality=data_quality.outputs["quality"]).with_id(
            DROP_LABEL_ISSUES
        )
        used = drop_label_issues.outputs["cleaned"]
    label_balance = LabelBalance(
        examples=examples,
        quality=data_quality.outputs["quality"],
        statistics=statistics_gen.outputs["statistics"],
        schema=schema,
        anomalies=example_validator.outputs["anomalies"],
        options=config.balance.to_parameter(),
    ).with_id(LABEL_BALANCE)
    served_statistics = drift = None
    if not compiled_resolvers:
        served_statistics = drift_resolver.served_model_statistics().with_id(SERVED_STATISTICS_RESOLVER)
        drift = Drift(
            statistics=statistics_gen.outputs["statistics"],
            schema=schema,
            previous_statistics=served_statistics.outputs[drift_resolver.STATISTICS_KEY],
            served_model=served_statistics.outputs[drift_resolver.MODEL_KEY],
            options=config.drift.to_parameter(),
        ).with_id(DRIFT)
    transform = ImageTransform(
        examples=used,
        schema=schema,
        # --image-size auto is decided from what LabelBalance measured (components/transform/sizing.py).
        training_hints=label_balance.outputs["training_hints"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=config.image.to_custom_config(),
    ).with_id(TRANSFORM)
    return DataSteps(
        example_gen, schema_gen, statistics_gen, example_validator, embeddings, data_quality, label_balance, transform,
        drop_label_issues, served_statistics, drift,
    )  # fmt: skip


def training_steps(config: PipelineConfig, data: DataSteps, compiled_resolvers: bool) -> List[Any]:
    """[Tuner (--tune) or the resolver of the latest earlier tuning, when reused], then the Trainer."""
    inputs = dict(
        examples=data.examples,
        transform_graph=data.transform.outputs["transform_graph"],
        training_hints=data.label_balance.outputs["training_hints"],
        custom_config={TRAINING_KEY: config.training.to_custom_config(), TUNING_KEY: config.tuning.to_custom_config()},
    )
    tuning_nodes, best_hyperparameters = [], None
    if config.tuning.tune:
        tuner = ImageTuner(tuner_fn=TUNER_FN, **inputs).with_id(TUNER)
        tuning_nodes, best_hyperparameters = [tuner], tuner.outputs["best_hyperparameters"]
    elif config.tuning.reuse_tuning:
        # The latest tuning result of this pipeline, from an earlier run with --tune; run_fn uses
        # it only for the same data and search space (components/trainer/tuning.py). The hints
        # have a type of their own, so a query by type (Kubeflow's) finds the Tuner's result only.
        latest_tuning = Resolver(
            strategy_class=LatestArtifactStrategy if compiled_resolvers else LatestArtifactOrNothingStrategy,
            hyperparameters=Channel(
                type=standard_artifacts.HyperParameters, producer_component_id=TUNER, output_key="best_hyperparameters"
            ),
        ).with_id(TUNING_RESOLVER)
        tuning_nodes, best_hyperparameters = [latest_tuning], latest_tuning.outputs["hyperparameters"]
    trainer = ImageTrainer(run_fn=RUN_FN, hyperparameters=best_hyperparameters, **inputs).with_id(TRAINER)
    return [*tuning_nodes, trainer]


def promotion_steps(config: PipelineConfig, data: DataSteps, trainer, params: Dict[str, Any], compiled_resolvers: bool):
    """The baseline resolver, Evaluator, ErrorAnalysis, PromotionGate, Pusher, EdgeExport and the
    model card."""
    examples, model = data.examples, trainer.outputs["model"]
    blessed_models = {
        baseline.MODEL_KEY: Channel(type=standard_artifacts.Model),
        baseline.BLESSING_KEY: Channel(type=standard_artifacts.ModelBlessing),
    }
    if compiled_resolvers:
        model_resolver = Resolver(strategy_class=LatestBlessedModelStrategy, **blessed_models)
    else:
        model_resolver = Resolver(
            strategy_class=baseline.LatestBlessedExceptCandidateStrategy, **blessed_models, **{baseline.CANDIDATE_KEY: model}
        )
    model_resolver = model_resolver.with_id(MODEL_RESOLVER)
    evaluator = Evaluator(
        examples=examples, model=model, baseline_model=model_resolver.outputs[baseline.MODEL_KEY], eval_config=eval_config()
    ).with_id(EVALUATOR)
    error_analysis = ErrorAnalysis(
        examples=examples,
        model=model,
        evaluation=evaluator.outputs["evaluation"],
        quality=data.data_quality.outputs["quality"],
        options=config.analysis.to_parameter(),
        baseline_model=model_resolver.outputs[baseline.MODEL_KEY],  # compared image by image, for the gate
    ).with_id(ERROR_ANALYSIS)
    promotion_gate = PromotionGate(
        evaluation=evaluator.outputs["evaluation"],
        balance=data.label_balance.outputs["balance"],
        model=model,
        analysis=error_analysis.outputs["analysis"],
        **{name: params[name] for name in config.gate.parameters()},
    ).with_id(PROMOTION_GATE)
    pusher = Pusher(
        model=model,
        model_blessing=promotion_gate.outputs["blessing"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=config.runtime.serving_dir)
        ),
        custom_executor_spec=executor_spec.ExecutorClassSpec(serving_pusher.Executor),
    ).with_id(PUSHER)
    edge_export = EdgeExport(
        model=model,
        examples=examples,
        transform_graph=data.transform.outputs["transform_graph"],
        pushed_model=pusher.outputs["pushed_model"],
        base_directory=config.runtime.edge_dir,
        options=config.edge.to_parameter(),
    ).with_id(EDGE_EXPORT)
    card_inputs = {"drift": data.drift.outputs["drift"]} if data.drift is not None else {}
    model_card = ModelCard(
        model=model,
        model_run=trainer.outputs["model_run"],
        blessing=promotion_gate.outputs["blessing"],
        balance=data.label_balance.outputs["balance"],
        quality=data.data_quality.outputs["quality"],
        pushed_model=pusher.outputs["pushed_model"],
        edge=edge_export.outputs["edge"],
        options=config.model_card.to_parameter(),
        **card_inputs,
    ).with_id(MODEL_CARD)
    return [model_resolver, evaluator, error_analysis, promotion_gate, pusher, edge_export, model_card]


def create_pipeline(
    config: PipelineConfig,
    metadata_connection_config: Optional[metadata_store_pb2.ConnectionConfig] = None,
    runtime_parameters: Optional[Dict[str, data_types.RuntimeParameter]] = None,
    last_component: Optional[str] = None,
    compiled_resolvers: bool = False,
) -> Pipeline:
    """The image-classification pipeline for `config`; nothing is read from the data here.

    `runtime_parameters` (orchestrators that support them: Kubeflow, Vertex) replace config
    values with values given when a run starts; keys are in RUNTIME_PARAMETERS. `last_component`
    (a node id) builds the DAG only up to that node, for example the data steps up to TRANSFORM.

    The candidate is compared with the latest blessed model other than itself, so that a re-run
    with nothing changed is cached through the Pusher (components/promotion_gate/baseline.py),
    and the latest earlier tuning is found or, before any, nothing (components/tuner/resolver.py).
    `compiled_resolvers=True` takes TFX's own strategies instead (LatestBlessedModelStrategy,
    which compares a cached candidate with itself, and LatestArtifactStrategy), the only ones
    KubeflowV2DagRunner compiles.
    """
    unknown = set(runtime_parameters or {}) - set(RUNTIME_PARAMETERS)
    if unknown:
        raise ValueError(f"Unknown runtime parameters {sorted(unknown)}; known: {', '.join(RUNTIME_PARAMETERS)}.")
    params = {**runtime_parameter_defaults(config), **(runtime_parameters or {})}
    data = data_steps(config, params[DATA_ROOT_PARAMETER], compiled_resolvers)
    training = training_steps(config, data, compiled_resolvers)
    components = [
        *data.nodes(),
        *training,
        *promotion_steps(config, data, training[-1], params, compiled_resolvers),
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
