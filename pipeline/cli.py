"""The flags the runners share, and the PipelineConfig they make.

Every flag is made from a field of a component's options dataclass: its default, type, choices
and help text are the field's (`components.options.setting`), so a flag cannot drift from the
component. A bad value becomes one ConfigError line that names the flag.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, Type, TypeVar

from components.batch_prediction.options import PredictionOptions
from components.data_quality.options import QualityOptions
from components.drift.options import DriftOptions
from components.embeddings.options import EmbeddingOptions
from components.edge_export.options import EdgeOptions
from components.error_analysis.options import AnalysisOptions
from components.image_example_gen.options import IngestionLimits
from components.imbalance import ImbalanceStrategy
from components.label_balance.options import BalanceOptions
from components.model_card.options import ModelCardOptions
from components.options import NO_FLAG, OptionError
from components.promotion_gate.options import GateThresholds
from components.trainer.options import TrainingOptions
from components.trainer.options import TuningOptions
from components.transform.options import ImageOptions
from pipeline import beam_packaging
from pipeline.config import SETUP_FILE, DataConfig, PipelineConfig, RuntimeConfig

T = TypeVar("T")

# The training runners' flag groups: a title, and the PipelineConfig fields whose options they set.
TRAINING_GROUPS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("data", ("data", "image", "ingestion")),
    ("training", ("training",)),
    ("tuning", ("tuning",)),
    ("label balance", ("balance",)),
    ("promotion", ("gate",)),
    ("data quality (duplicates, leaks, odd images, label issues; the embeddings they use)", ("quality", "embeddings")),
    ("drift (this run's train images against the served model's)", ("drift",)),
    ("error analysis (the report's images of mistakes)", ("analysis",)),
    ("edge models (TF Lite, after a push)", ("edge",)),
    ("model card (beside every pushed model)", ("model_card",)),
)
# PipelineConfig's options fields and their classes (RuntimeConfig has flags of its own).
OPTIONS: Dict[str, Type] = {
    "data": DataConfig,
    "ingestion": IngestionLimits,
    "image": ImageOptions,
    "training": TrainingOptions,
    "tuning": TuningOptions,
    "balance": BalanceOptions,
    "gate": GateThresholds,
    "analysis": AnalysisOptions,
    "embeddings": EmbeddingOptions,
    "quality": QualityOptions,
    "drift": DriftOptions,
    "edge": EdgeOptions,
    "model_card": ModelCardOptions,
    "prediction": PredictionOptions,
}
# The flag --imbalance-strategy replaced, still taken: its value -> the strategy it meant.
_CLASS_WEIGHTS_FLAG = {"balanced": ImbalanceStrategy.CLASS_WEIGHTS.value, "none": ImbalanceStrategy.NONE.value}


class ConfigError(ValueError):
    """A setting that cannot work; the message names the flag and the fix."""


def _spellings() -> Dict[str, str]:
    spelled = {}
    for cls in OPTIONS.values():
        for field in dataclasses.fields(cls):
            meta = field.metadata
            if meta.get("flag") == NO_FLAG:
                spelled[field.name] = meta["spelled"] or field.name.replace("_", " ")
            else:
                spelled[field.name] = meta.get("flag") or "--" + field.name.replace("_", "-")
    return spelled


_SPELLED = _spellings()


def flag(setting: str) -> str:
    """The command-line spelling of an options field (or its name in words, without a flag)."""
    return _SPELLED.get(setting) or "--" + setting.replace("_", "-")


def _value_type(cls: type, field: dataclasses.Field) -> Optional[Callable[[str], Any]]:
    """int, float or None (a string) for a field typed int, float, str or Optional of one; a
    setting that takes `auto` also parses that word, as None."""
    hint = typing.get_type_hints(cls)[field.name]
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] or [hint]
    kind = kinds[0] if kinds[0] in (int, float) else None
    if not field.metadata.get("auto") or kind is None:
        return kind

    def number_or_auto(text: str):
        return None if text == "auto" else kind(text)

    number_or_auto.__name__ = kind.__name__  # argparse names the type in its error line
    return number_or_auto


def add_option_flags(group, cls: type, only: Optional[Iterable[str]] = None) -> None:
    """One flag per field of the options dataclass `cls` (or of the fields `only` names)."""
    defaults = cls()
    for field in dataclasses.fields(cls):
        meta = field.metadata
        if "help" not in meta or meta["flag"] == NO_FLAG or (only is not None and field.name not in only):
            continue
        default, help_text, kwargs = getattr(defaults, field.name), meta["help"], {}
        name = flag(field.name)
        if isinstance(default, bool):
            if name.startswith("--no-"):
                kwargs["action"] = "store_false"
            else:
                kwargs["action"] = argparse.BooleanOptionalAction if default else "store_true"
        else:
            kwargs["type"] = _value_type(cls, field)
            if meta["choices"]:
                kwargs["choices"] = tuple(meta["choices"])
            else:
                kwargs["metavar"] = name[2:].replace("-", "_").upper()  # the flag's, not the field's
            shown = meta["default_help"] or "%(default)s"
            help_text = f"{help_text} (default: {shown})" if help_text else f"(default: {shown})"
        group.add_argument(name, dest=field.name, default=default, help=help_text, **kwargs)


def command_parser(prog: str, doc: str, epilog: Optional[str] = None) -> argparse.ArgumentParser:
    """A command's parser: the first paragraph of its docstring `doc` describes it, and `epilog`
    (the rest of the docstring when None) follows the flags, both as written."""
    first, _, rest = doc.partition("\n\n")
    return argparse.ArgumentParser(
        prog=prog, description=first, epilog=rest if epilog is None else epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def add_arguments(parser: argparse.ArgumentParser, without: Sequence[str] = ()) -> None:
    """Adds the training runners' flags (all but the options fields named in `without`), and the
    runtime flags (`add_runtime_arguments`)."""
    for title, names in TRAINING_GROUPS:
        group = parser.add_argument_group(title)
        for name in names:
            cls = OPTIONS[name]
            add_option_flags(group, cls, [f.name for f in dataclasses.fields(cls) if f.name not in without])
        if "training" in names:
            group.add_argument(
                "--class-weights",
                choices=tuple(_CLASS_WEIGHTS_FLAG),
                help="deprecated: --imbalance-strategy class_weights / none",
            )
    add_runtime_arguments(parser)


def add_runtime_arguments(parser: argparse.ArgumentParser, defaults: RuntimeConfig = RuntimeConfig()) -> None:
    """Where outputs go and how the Beam steps run: the flags every runner shares."""
    group = parser.add_argument_group("runtime")
    group.add_argument(
        "--output-dir",
        default=defaults.output_dir,
        help="the run's outputs: pipeline artifacts, ML Metadata and what the run publishes (default: %(default)s)",
    )
    group.add_argument("--pipeline-name", default=defaults.pipeline_name, help="(default: %(default)s)")
    group.add_argument(
        "--beam-arg",
        action="append",
        metavar="OPTION",
        help="a Beam pipeline option for the data steps, repeatable; write it with '=': "
        "--beam-arg=--direct_running_mode=multi_processing --beam-arg=--direct_num_workers=4, or "
        "--beam-arg=--runner=DataflowRunner …; this project's setup.py goes with them unless an option "
        "ships the code (--sdk_container_image, --extra_package) (default: none, one in-process worker)",
    )
    group.add_argument(
        "--no-cache", action="store_true", help="re-run every component even when its inputs have not changed"
    )


def add_local_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of runners that execute here (run_local.py, run_batch_predict.py)."""
    parser.add_argument(
        "--pipeline-root",
        help="where artifacts go (default: <output-dir>/pipeline_root); a gs:// path when the Beam steps "
        "run on Dataflow, whose workers must reach it. ML Metadata and the summary stay in --output-dir",
    )
    parser.add_argument("--verbose", action="store_true", help="show TFX, Beam and TensorFlow logs and tracebacks")


def _from_flags(cls: Type[T], args: argparse.Namespace) -> T:
    """The options dataclass `cls` with each field that has a flag set from it."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})


def checked(make: Callable[[], T]) -> T:
    """`make()`, with an OptionError turned into a ConfigError that names the flags."""
    try:
        return make()
    except OptionError as error:
        raise ConfigError(error.spelled(flag)) from error


def runtime_from(args: argparse.Namespace, setup_file: str = str(SETUP_FILE), **overrides) -> RuntimeConfig:
    """The RuntimeConfig of the runtime flags; `overrides` set fields the flags do not."""
    return RuntimeConfig(
        output_dir=args.output_dir,
        pipeline_name=args.pipeline_name,
        enable_cache=not args.no_cache,
        beam_args=beam_packaging.beam_args(args.beam_arg or (), setup_file),
        **overrides,
    )


def _take_class_weights_flag(args: argparse.Namespace) -> argparse.Namespace:
    if not getattr(args, "class_weights", None):
        return args
    strategy = _CLASS_WEIGHTS_FLAG[args.class_weights]
    if args.imbalance_strategy not in (TrainingOptions().imbalance_strategy, strategy):
        raise ConfigError(
            f"--class-weights {args.class_weights} contradicts --imbalance-strategy {args.imbalance_strategy}: "
            "--class-weights is deprecated, give --imbalance-strategy only."
        )
    print(f"warning: --class-weights is deprecated; use --imbalance-strategy {strategy}.", file=sys.stderr)
    return argparse.Namespace(**{**vars(args), "imbalance_strategy": strategy})


def from_args(args: argparse.Namespace, setup_file: str = str(SETUP_FILE), **runtime_overrides) -> PipelineConfig:
    """Builds and checks the config from parsed flags; raises ConfigError naming the flag.

    `setup_file` is this project's setup.py where the Beam steps run (see `beam_packaging`);
    `runtime_overrides` set RuntimeConfig fields the flags do not (a runner's own locations).
    """
    args = _take_class_weights_flag(args)
    return checked(
        lambda: PipelineConfig(
            **{name: _from_flags(cls, args) for name, cls in OPTIONS.items()},
            runtime=runtime_from(args, setup_file, **runtime_overrides),
        )
    )
