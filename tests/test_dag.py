"""The one DAG: built from a config without the data, and the layering the code keeps."""
import ast
from pathlib import Path

import pytest

from pipeline.config import REPO_ROOT


def test_the_dag_is_built_without_reading_the_data_and_can_stop_after_a_node(tmp_path):
    from pipeline import dag
    from pipeline.config import DataConfig, PipelineConfig, RuntimeConfig

    config = PipelineConfig(
        data=DataConfig(data_dir=str(tmp_path / "not_there_yet")), runtime=RuntimeConfig(output_dir=str(tmp_path))
    )
    assert [c.id for c in dag.create_pipeline(config).components][0] == dag.EXAMPLE_GEN
    data_steps = dag.create_pipeline(config, last_component=dag.TRANSFORM).components
    assert {c.id for c in data_steps} == {
        "ImageExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "Embeddings", "DataQuality", "LabelBalance",
        "ServedModelStatisticsResolver", "Drift", "Transform",
    }  # fmt: skip
    with pytest.raises(ValueError, match="No component 'Nope'"):
        dag.create_pipeline(config, last_component="Nope")


def imported_modules(path: Path):
    """Every module a Python file imports, at any depth of its code."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


# Packages under components/ that are not pipeline steps: what every step may share. They sit
# below the steps, so they import none of them.
NEUTRAL_PACKAGES = {"backbone", "contracts", "reporting"}


def package_imports():
    """{package under components/: the other packages under components/ it imports}."""
    graph = {}
    for path in sorted((REPO_ROOT / "components").rglob("*.py")):
        parts = path.relative_to(REPO_ROOT / "components").parts
        if len(parts) < 2:
            continue  # a neutral module at the top (artifacts.py, features.py, options.py, ...)
        imported = graph.setdefault(parts[0], set())
        for module in imported_modules(path):
            names = module.split(".")
            if len(names) >= 2 and names[0] == "components" and (REPO_ROOT / "components" / names[1]).is_dir():
                imported.add(names[1])
        imported.discard(parts[0])
    return graph


def test_components_never_import_the_pipeline_package():
    """Components get their settings as parameters; `pipeline/` composes them, never the reverse."""
    offenders = {
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in sorted((REPO_ROOT / "components").rglob("*.py"))
        for module in imported_modules(path)
        if module == "pipeline" or module.startswith("pipeline.")
    }
    assert offenders == set()
    # The check reads real imports: this file's own import of pipeline.config is one.
    assert "pipeline.config" in set(imported_modules(Path(__file__)))


def test_component_packages_import_each_other_one_way_only():
    """No cycle between the packages under components/ (the tuner uses the trainer, never the
    reverse), and the shared packages (records, report pieces) import no step."""
    graph = package_imports()
    assert "trainer" in graph["tuner"] and "tuner" not in graph["trainer"]  # the check reads real imports
    for package in NEUTRAL_PACKAGES:
        assert graph[package] <= NEUTRAL_PACKAGES, package

    def cycle_from(start, path):
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == start:
                return path + [nxt]
            if nxt not in path:
                found = cycle_from(start, path + [nxt])
                if found:
                    return found
        return None

    cycles = {" -> ".join(c) for c in (cycle_from(package, [package]) for package in graph) if c}
    assert cycles == set()


def test_every_component_gets_back_the_options_the_config_gave_it(tmp_path):
    """What TFX carries to each step (custom_config JSON, Parameters) decodes to the same options,
    with the same types: a pixel count stays an int, not the double a protobuf Struct would make."""
    import json

    from components.data_quality.options import QualityOptions
    from components.edge_export.options import EdgeOptions
    from components.drift.options import DriftOptions
    from components.model_card.options import ModelCardOptions
    from components.error_analysis.options import AnalysisOptions
    from components.embeddings.options import EmbeddingOptions
    from components.image_example_gen.executor import limits_from
    from components.image_example_gen.options import IngestionLimits
    from components.label_balance.options import BalanceOptions
    from components.promotion_gate.options import GateThresholds
    from components.trainer.options import TrainingOptions, TuningOptions
    from components.trainer.plan import TRAINING_KEY, TUNING_KEY
    from components.transform.options import ImageOptions
    from pipeline import dag
    from pipeline.config import PipelineConfig, RuntimeConfig

    config = PipelineConfig(
        ingestion=IngestionLimits(max_image_pixels=1_234_567, max_rejected_fraction=0.2),
        image=ImageOptions(image_size=64, channels=1),
        training=TrainingOptions(
            epochs=3, batch_size=7, architecture="resnet_small", augment=False, flip="both",
            checkpoint_metric="accuracy", dropout=0.25, augment_strength=0.5, imbalance_strategy="oversample",
        ),  # fmt: skip
        tuning=TuningOptions(tune=True, tune_trials=3, tune_epochs=2, reuse_tuning=False),
        balance=BalanceOptions(imbalance_ratio=3.0, severe_ratio=4.0, fail_on_imbalance=True),
        gate=GateThresholds(majority_margin=0.1, chance_margin=0.2, max_regression=0.3),
        analysis=AnalysisOptions(top_losses=5, confused_pairs=4, images_per_pair=2),
        quality=QualityOptions(near_constant_contrast=0.05, max_aspect_ratio=3.0, blur_fraction=0.1, label_issues=False),
        embeddings=EmbeddingOptions(embedding_image_size=64, embedding_batch_size=8, shard_images=100),
        edge=EdgeOptions(edge_export=False, min_int8_agreement=0.9, parity_images=50, representative_images=10),
        drift=DriftOptions(class_share_drift=0.2, image_drift=0.3),
        model_card=ModelCardOptions(model_name="digits", min_eval_images_per_class=3),
        runtime=RuntimeConfig(output_dir=str(tmp_path)),
    )
    nodes = {node.id: node.exec_properties for node in dag.create_pipeline(config).components}
    limits = limits_from(nodes[dag.EXAMPLE_GEN])
    assert limits == config.ingestion and type(limits.max_image_pixels) is int
    assert ImageOptions.from_custom_config(json.loads(nodes[dag.TRANSFORM]["custom_config"])) == config.image
    for node_id in (dag.TUNER, dag.TRAINER):
        custom_config = json.loads(nodes[node_id]["custom_config"])
        assert TrainingOptions.from_custom_config(custom_config[TRAINING_KEY]) == config.training
        assert TuningOptions.from_custom_config(custom_config[TUNING_KEY]) == config.tuning
    # The @component steps take their options as one JSON parameter, decoded by field name.
    assert BalanceOptions.from_parameter(nodes[dag.LABEL_BALANCE]["options"]) == config.balance
    assert AnalysisOptions.from_parameter(nodes[dag.ERROR_ANALYSIS]["options"]) == config.analysis
    assert QualityOptions.from_parameter(nodes[dag.DATA_QUALITY]["options"]) == config.quality
    assert EmbeddingOptions.from_parameter(nodes[dag.EMBEDDINGS]["options"]) == config.embeddings
    assert EdgeOptions.from_parameter(nodes[dag.EDGE_EXPORT]["options"]) == config.edge
    assert DriftOptions.from_parameter(nodes[dag.DRIFT]["options"]) == config.drift
    assert ModelCardOptions.from_parameter(nodes[dag.MODEL_CARD]["options"]) == config.model_card
    # The gate's thresholds are runtime parameters on Kubeflow, so one parameter each, by name.
    assert GateThresholds(**{k: nodes[dag.PROMOTION_GATE][k] for k in config.gate.parameters()}) == config.gate
    assert set(nodes) == {
        dag.EXAMPLE_GEN, dag.SCHEMA_GEN, dag.STATISTICS_GEN, dag.EXAMPLE_VALIDATOR, dag.EMBEDDINGS, dag.DATA_QUALITY,
        dag.LABEL_BALANCE, dag.SERVED_STATISTICS_RESOLVER, dag.DRIFT,
        dag.TRANSFORM, dag.TUNER, dag.TRAINER, dag.MODEL_RESOLVER, dag.EVALUATOR, dag.ERROR_ANALYSIS,
        dag.PROMOTION_GATE, dag.PUSHER, dag.EDGE_EXPORT, dag.MODEL_CARD,
    }  # fmt: skip - every component of a tuned run is checked above, or has no options of ours


def test_the_gate_takes_each_threshold_by_name():
    """Its parameters are GateThresholds' fields, so a renamed or reordered field cannot go astray."""
    from components.promotion_gate.component import PromotionGate
    from components.promotion_gate.options import GateThresholds

    assert set(PromotionGate.SPEC_CLASS.PARAMETERS) == set(GateThresholds().parameters())


def test_options_from_another_version_are_refused_not_dropped():
    from components.trainer.options import TrainingOptions

    with pytest.raises(ValueError, match="Unknown TrainingOptions settings: epochz"):
        TrainingOptions.from_custom_config({"epochz": 3})
