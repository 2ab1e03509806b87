"""Settings are checked before any work starts, and errors name the flag."""
import argparse

import pytest

from pipeline import cli, config


def parse(*argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.from_args(parser.parse_args(list(argv)))


def test_defaults_run_on_the_sample():
    cfg = parse()
    assert cfg.data.data_dir == str(config.SAMPLE_DATA_DIR)
    assert cfg.runtime.enable_cache and cfg.training.epochs == 30
    assert cfg.runtime.metadata_path.endswith("metadata.sqlite")


def test_flags_reach_the_config():
    cfg = parse("--epochs", "3", "--image-size", "64", "--batch-size", "8", "--learning-rate", "0", "--no-cache", "--top-losses", "0")
    assert (cfg.training.epochs, cfg.image.image_size, cfg.training.batch_size) == (3, 64, 8)
    assert cfg.analysis.top_losses == 0 and cfg.analysis.confused_pairs == 10
    assert cfg.training.learning_rate == 0.0 and not cfg.runtime.enable_cache


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["--image-size", "0"], "--image-size 0"),
        (["--epochs", "-1"], "--epochs -1"),
        (["--batch-size", "0"], "--batch-size 0"),
        (["--learning-rate", "-0.1"], "--learning-rate -0.1"),
        (["--eval-fraction", "1.5"], "--eval-fraction 1.5"),
        (["--channels", "2"], "--channels 2"),
        (["--majority-margin", "2"], "--majority-margin 2"),
        (["--max-regression", "-1"], "--max-regression -1"),
        (["--dropout", "1"], "--dropout 1"),
        (["--tune-trials", "0"], "--tune-trials 0"),
        (["--top-losses", "500"], "--top-losses 500"),
        (["--pretrained-weights", "imagenet"], "--pretrained-weights is for a backbone architecture"),
    ],
)
def test_nonsense_settings_name_the_flag(argv, flag):
    with pytest.raises(cli.ConfigError, match=flag):
        parse(*argv)


def test_image_size_and_architecture_are_auto_unless_given():
    defaults = parse()
    assert defaults.image.image_size is None and defaults.training.architecture == "auto"
    assert parse("--image-size", "auto").image.image_size is None
    given = parse("--image-size", "160", "--architecture", "efficientnet_lite0", "--fine-tune-learning-rate", "3e-5")
    assert (given.image.image_size, given.training.architecture, given.training.phase_two_learning_rate) == (160, "efficientnet_lite0", 3e-5)
    assert given.training.pretrained and parse("--learning-rate", "0.002").training.phase_two_learning_rate == pytest.approx(2e-4)
    with pytest.raises(SystemExit):  # argparse: "invalid int value: 'big'"
        parse("--image-size", "big")
    with pytest.raises(cli.ConfigError, match="efficientnet_lite0 loads the ImageNet weights installed with this project"):
        parse("--architecture", "efficientnet_lite0", "--pretrained-weights", __file__)


def test_the_new_training_flags_reach_the_config():
    cfg = parse(
        "--imbalance-strategy", "oversample", "--checkpoint-metric", "accuracy", "--architecture", "efficientnet_b0",
        "--pretrained-weights", "imagenet", "--tune", "--tune-trials", "3", "--tune-epochs", "2", "--no-reuse-tuning",
    )  # fmt: skip
    assert cfg.training.imbalance_strategy == "oversample" and cfg.training.checkpoint_metric == "accuracy"
    assert (cfg.training.architecture, cfg.training.pretrained_weights) == ("efficientnet_b0", "imagenet")
    assert (cfg.tuning.tune, cfg.tuning.tune_trials, cfg.tuning.tune_epochs, cfg.tuning.reuse_tuning) == (True, 3, 2, False)
    defaults = parse()
    assert defaults.training.checkpoint_metric is None and defaults.tuning.reuse_tuning and not defaults.tuning.tune


def test_the_old_class_weights_flag_still_works_with_a_deprecation_line(capsys):
    assert parse("--class-weights", "none").training.imbalance_strategy == "none"
    assert parse("--class-weights", "balanced").training.imbalance_strategy == "class_weights"
    assert "--class-weights is deprecated; use --imbalance-strategy class_weights" in capsys.readouterr().err
    with pytest.raises(cli.ConfigError, match="--class-weights none contradicts --imbalance-strategy oversample"):
        parse("--class-weights", "none", "--imbalance-strategy", "oversample")


@pytest.mark.parametrize("fraction, buckets", [(0.2, (80, 20)), (0.25, (75, 25)), (0.001, (99, 1))])
def test_eval_fraction_becomes_hash_buckets(fraction, buckets):
    assert config.DataConfig(eval_fraction=fraction).hash_buckets == buckets


def test_without_beam_args_the_beam_steps_run_in_process_and_nothing_is_packed(monkeypatch):
    """Given any Beam option and no dependency option, TFX copies its installation into an sdist
    for every Beam component: seconds each, and ~50 MB left in the temp dir."""
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions
    from tfx.components.statistics_gen.executor import Executor
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
    from tfx.utils import dependency_utils

    packed = []
    monkeypatch.setattr(dependency_utils, "build_ephemeral_package", lambda: packed.append(1) or "tfx_ephemeral.tar.gz")

    beam_args = list(parse().runtime.beam_args)
    assert beam_args == []
    options = PipelineOptions(beam_args)
    assert options.view_as(StandardOptions).runner in (None, "DirectRunner")
    direct = options.view_as(DirectOptions)
    assert (direct.direct_running_mode, direct.direct_num_workers) == ("in_memory", 1)
    Executor(BaseBeamExecutor.Context(beam_pipeline_args=beam_args))
    assert packed == []  # a Beam executor made with these options builds no tfx_ephemeral package
    Executor(BaseBeamExecutor.Context(beam_pipeline_args=["--direct_num_workers=1"]))
    assert packed == [1]  # ... as it would with any option that ships no code


def test_beam_args_ship_this_project_to_the_workers():
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
    from tfx.utils import dependency_utils

    cfg = parse("--beam-arg=--direct_running_mode=multi_processing", "--beam-arg=--direct_num_workers=4")
    beam_args = list(cfg.runtime.beam_args)
    assert beam_args == [
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=4",
        f"--setup_file={config.SETUP_FILE}",
    ]
    assert config.SETUP_FILE.is_file()
    assert dependency_utils.make_beam_dependency_flags(beam_args) == beam_args  # no tfx_ephemeral build
    options = PipelineOptions(beam_args).view_as(DirectOptions)
    assert (options.direct_running_mode, options.direct_num_workers) == ("multi_processing", 4)


def test_a_beam_arg_that_ships_code_replaces_the_setup_file():
    cfg = parse("--beam-arg=--runner=DataflowRunner", "--beam-arg=--sdk_container_image=gcr.io/p/image:1")
    assert cfg.runtime.beam_args == ("--runner=DataflowRunner", "--sdk_container_image=gcr.io/p/image:1")


def test_a_runner_can_put_artifacts_and_served_models_elsewhere():
    from pipeline.cli import from_args

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--output-dir", "/tmp/out"])
    default = from_args(args).runtime
    assert (default.pipeline_root, default.serving_dir) == ("/tmp/out/pipeline_root", "/tmp/out/serving")
    moved = from_args(args, pipeline_root_dir="gs://b/root", serving_base_dir="gs://b/serving").runtime
    assert (moved.pipeline_root, moved.serving_dir, moved.metadata_path) == (
        "gs://b/root",
        "gs://b/serving",
        "/tmp/out/metadata.sqlite",
    )
