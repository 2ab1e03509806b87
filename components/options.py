"""What every component's options dataclass shares: errors that name the setting, and JSON.

Each component keeps its settings in one frozen dataclass beside its code (`IngestionLimits`,
`ImageOptions`, `TrainingOptions`, `BalanceOptions`, `GateThresholds`) that checks its values when
it is made. A bad value raises `OptionError`, whose message names settings by their field names; a
command line re-spells them as its flags (`pipeline/cli.py`), so the component needs no flag.
`to_json` / `from_json` are the encoding for what TFX carries (`custom_config`, `Parameter`s).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, Mapping, Type, TypeVar

T = TypeVar("T")


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
