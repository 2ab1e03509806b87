"""What every component's options dataclass shares: help text, errors that name the setting, JSON.

Each component keeps its settings in one frozen dataclass beside its code (`IngestionLimits`,
`ImageOptions`, `TrainingOptions`, `BalanceOptions`, `GateThresholds`, ...), a subclass of
`Options` that checks its values when it is made. Each field says what it means once, in
`setting(default, help)`; the command line (`pipeline/cli.py`) makes a flag of it from that. A bad
value raises `OptionError`, whose message names settings by their field names; a command line
re-spells them as its flags, so the component needs no flag.

`to_json` / `from_json` are the encoding for what TFX carries: `custom_config`, and the one JSON
`Parameter[str]` a `@component` step takes (`to_parameter` / `from_parameter`), which decodes by
name, so no two fields can be swapped by their order.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Type, TypeVar

T = TypeVar("T")
NO_FLAG = ""  # setting(..., flag=NO_FLAG): no command-line flag sets it


def setting(
    default: Any,
    help: str,
    *,
    flag: Optional[str] = None,
    choices: Optional[Sequence[Any]] = None,
    default_help: Optional[str] = None,
    spelled: Optional[str] = None,
    at_least: Optional[float] = None,
    at_most: Optional[float] = None,
    below: Optional[float] = None,
    unit: str = "",
    example: Optional[Any] = None,
    note: Optional[str] = None,
    auto: bool = False,
) -> Any:
    """A field of an options dataclass with its help text and its valid values, written once.

    `flag`: the flag when it is not --<field-name-with-dashes> (NO_FLAG: none; a flag starting
    with --no- turns a setting that defaults to True off); `choices`: the values it takes;
    `at_least`, `at_most`, `below`: its range (`Options` checks it; None, for a setting that
    defaults to None, always passes); `unit`, `example`, `note`: words for the error message;
    `default_help`: what the help says of the default instead of its value; `spelled`: how an
    error message names a setting without a flag; `auto`: the flag also takes the word `auto`,
    None here, which leaves the value to the pipeline, decided from the data.
    """
    metadata = {
        "help": help, "flag": flag, "choices": choices, "default_help": default_help, "spelled": spelled,
        "range": (at_least, at_most, below), "unit": unit, "example": example, "note": note, "auto": auto,
    }  # fmt: skip
    return dataclasses.field(default=default, metadata=metadata)


class Options:
    """Base of the options dataclasses: every field checked against its `setting` when made, and
    their JSON forms, checked again when read back. A subclass with checks across fields calls
    `super().__post_init__()` first."""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            check_setting(field, getattr(self, field.name))

    def to_json(self) -> Dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_json(cls: Type[T], values: Mapping[str, Any]) -> T:
        return from_json(cls, values)

    def to_parameter(self) -> str:
        """The options as one JSON `Parameter[str]` of a `@component` step."""
        return json.dumps(self.to_json(), sort_keys=True)

    @classmethod
    def from_parameter(cls: Type[T], text: str) -> T:
        return from_json(cls, json.loads(text))


class OptionError(ValueError):
    """A setting that cannot work. The message is a template: `{value}`-style fields passed as
    keywords are filled in as given, any other `{field}` is a setting's name, written by `spell`."""

    def __init__(self, template: str, **values: Any):
        self.template = template
        self.values = values
        super().__init__(self.spelled(str))

    def spelled(self, spell: Callable[[str], str]) -> str:
        """The message with every setting name written as `spell(name)` (a flag, say)."""
        return self.template.format_map(_SettingNames(self.values, spell))


class _SettingNames(dict):
    def __init__(self, values: Mapping[str, Any], spell: Callable[[str], str]):
        super().__init__(values)
        self._spell = spell

    def __missing__(self, name: str) -> str:
        return self._spell(name)


def require(condition: bool, template: str, **values: Any) -> None:
    """Raises OptionError(template, **values) unless `condition` holds."""
    if not condition:
        raise OptionError(template, **values)


def _range_words(low, high, below, unit: str) -> str:
    if low is not None and high is not None:
        words = f"between {low:g} and {high:g}"
    elif low is not None and below is not None:
        words = f"at least {low:g} and below {below:g}"
    elif low is not None:
        words = f"at least {low:g}"
    else:
        words = f"below {below:g}" if below is not None else f"at most {high:g}"
    return f"{words} {unit}" if unit else words


def check_setting(field: dataclasses.Field, value: Any) -> None:
    """Raises OptionError when `value` is outside the field's `setting` choices or range."""
    meta = field.metadata
    if value is None or "help" not in meta:
        return
    if meta["choices"] is not None and value not in meta["choices"]:
        choices = ", ".join(str(choice) for choice in meta["choices"])
        raise OptionError("{%s} {value} must be one of: {choices}." % field.name, value=value, choices=choices)
    low, high, below = meta["range"]
    if (low is not None and value < low) or (high is not None and value > high) or (below is not None and value >= below):
        words = _range_words(low, high, below, meta["unit"])
        if meta["example"] is not None:
            words += f" (for example {meta['example']})"
        elif meta["note"]:
            words += f" ({meta['note']})"
        raise OptionError("{%s} {value} must be %s." % (field.name, words), value=value)


def to_json(options) -> Dict[str, Any]:
    """An options dataclass as a JSON-ready dict of its fields."""
    return dataclasses.asdict(options)


def from_json(cls: Type[T], values: Mapping[str, Any]) -> T:
    """The options dataclass `cls` from `to_json`'s dict, checked again; unknown keys are refused,
    so a setting renamed on one side of a component boundary cannot be dropped silently."""
    unknown = sorted(set(values) - {field.name for field in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"Unknown {cls.__name__} settings: {', '.join(unknown)}.")
    return cls(**values)
