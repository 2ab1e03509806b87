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
        "ImageExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "DataQuality", "LabelBalance",
        "Transform",
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


def test_every_component_gets_back_the_options_the_config_gave_it(tmp_path):
    """What TFX carries to each step (custom_config JSON, Parameters) decodes to the same options,
    with the same types: a pixel count stays an int, not the double a protobuf Struct would make."""
    import json

    from components.image_example_gen.executor import limits_from
    from components.image_example_gen.ingestion import IngestionLimits
    from components.label_balance.balance import BalanceOptions
    from components.promotion_gate.gate import GateThresholds
    from components.data_quality.checks import QualityOptions
    from components.error_analysis.options import AnalysisOptions
    from components.trainer.options import TrainingOptions
    from components.trainer.plan import TRAINING_KEY, TUNING_KEY
    from components.transform.options import ImageOptions
    from components.tuner.search_space import TuningOptions
    from pipeline import dag
    from pipeline.config import PipelineConfig, RuntimeConfig

    config = PipelineConfig(
        ingestion=IngestionLimits(max_image_pixels=1_234_567, max_rejected_fraction=0.2),
        image=ImageOptions(image_size=64, channels=1),
        training=TrainingOptions(
            epochs=3, batch_size=7, architecture="resnet_small", augment=False, flip="both",
            checkpoint_metric="accuracy", dropout=0.25, augment_strength=0.5,
        ),  # fmt: skip
        tuning=TuningOptions(tune=True, tune_trials=3, tune_epochs=2, reuse_tuning=False),
        balance=BalanceOptions(imbalance_ratio=3.0, severe_ratio=4.0, imbalance_strategy="oversample", fail_on_imbalance=True),
        gate=GateThresholds(majority_margin=0.1, chance_margin=0.2, max_regression=0.3),
        analysis=AnalysisOptions(top_losses=5, confused_pairs=4, images_per_pair=2),
        quality=QualityOptions(near_constant_contrast=0.05, max_aspect_ratio=3.0, blur_fraction=0.1),
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
    assert BalanceOptions(**{k: nodes[dag.LABEL_BALANCE][k] for k in config.balance.parameters()}) == config.balance
    assert GateThresholds(**{k: nodes[dag.PROMOTION_GATE][k] for k in config.gate.parameters()}) == config.gate
    assert AnalysisOptions(**{k: nodes[dag.ERROR_ANALYSIS][k] for k in config.analysis.parameters()}) == config.analysis
    assert QualityOptions(**{k: nodes[dag.DATA_QUALITY][k] for k in config.quality.parameters()}) == config.quality


def test_options_from_another_version_are_refused_not_dropped():
    from components.trainer.options import TrainingOptions

    with pytest.raises(ValueError, match="Unknown TrainingOptions settings: epochz"):
        TrainingOptions.from_custom_config({"epochz": 3})
