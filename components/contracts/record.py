"""The typed record every hand-off between steps is: a frozen dataclass with `to_json` and a
`from_json` that refuses keys it does not know and names the ones it misses.

A record is the one definition of a JSON file that one step writes and another reads: the writer
builds it, readers (other steps, the run summary, the report) get it back through `read`, so a
renamed or missing key fails where the file is read, in a unit test, not two minutes into a run.
Nested records, lists and dicts of records, and enums are decoded from the field types.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import typing
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar

from components import artifacts

R = TypeVar("R", bound="Record")


class RecordError(ValueError):
    """A file does not hold the record it should: a key unknown to this version, or one missing."""


class Record:
    """Base of the records (subclasses are frozen dataclasses).

    FILE: the file name inside its artifact, for `read` and `write`.
    RETIRED: keys that earlier versions wrote and this one no longer has; read and dropped.
    ADDED: keys later versions added to a field without a default, and what a file written
    before them means. Both let an artifact from the cache or an older run still read.
    """

    FILE: ClassVar[Optional[str]] = None
    RETIRED: ClassVar[Tuple[str, ...]] = ()
    ADDED: ClassVar[Dict[str, Any]] = {}

    def to_json(self) -> Dict[str, Any]:
        return {_key(field): _encode(getattr(self, field.name)) for field in dataclasses.fields(self)}

    @classmethod
    def from_json(cls: Type[R], values: Mapping[str, Any], where: str = "") -> R:
        where = where or cls.__name__
        if not isinstance(values, Mapping):
            raise RecordError(f"{where}: expected an object, got {type(values).__name__}.")
        values = {**cls.ADDED, **values}
        fields = {_key(field): field for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields) - set(cls.RETIRED))
        if unknown:
            raise RecordError(f"{where}: unknown keys {', '.join(unknown)} (written by another version?).")
        missing = sorted(
            name
            for name, field in fields.items()
            if name not in values and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        if missing:
            raise RecordError(f"{where}: missing keys {', '.join(missing)}.")
        hints = _hints(cls)
        return cls(
            **{
                field.name: _decode(hints[field.name], values[key], f"{where}.{key}")
                for key, field in fields.items()
                if key in values
            }
        )


def key(name: str) -> Dict[str, str]:
    """Field metadata for a key that is not a Python name (`class`, `try`):
    `class_name: str = dataclasses.field(metadata=key("class"))`."""
    return {"key": name}


def _key(field: dataclasses.Field) -> str:
    return field.metadata.get("key", field.name)


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> Dict[str, Any]:
    return typing.get_type_hints(cls)


def _encode(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(annotation: Any, value: Any, where: str) -> Any:
    if value is None:
        return None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:  # Optional[X]
        kinds = [a for a in args if a is not type(None)]
        return _decode(kinds[0], value, where) if len(kinds) == 1 else value
    if origin in (list, typing.List) and args:
        return [_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (tuple, typing.Tuple) and args:
        item = args[0]
        return tuple(_decode(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (dict, typing.Dict) and len(args) == 2:
        return {k: _decode(args[1], v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return annotation.from_json(value, where)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation(value)
    return value


def write(record: Record, directory: str) -> str:
    """Writes `record` as its FILE in `directory` (local or gs://); returns the file's path."""
    return artifacts.write_json(directory, type(record).FILE, record.to_json())


def read(cls: Type[R], directory: str) -> R:
    """The record `cls` from its FILE in `directory`."""
    return cls.from_json(artifacts.read_json(directory, cls.FILE), f"{cls.FILE} ({cls.__name__})")


def read_if_present(cls: Type[R], directory: Optional[str]) -> Optional[R]:
    """The record, or None when there is no folder or no such file in it (an older run, a failed step)."""
    if not directory:
        return None
    values = artifacts.read_json_if_present(directory, cls.FILE)
    return None if values is None else cls.from_json(values, f"{cls.FILE} ({cls.__name__})")


def write_list(cls: Type[R], records: Sequence[R], directory: str) -> str:
    """Writes `records` as the JSON list in `cls.FILE` (trials.json is one); returns the path."""
    return artifacts.write_json(directory, cls.FILE, [record.to_json() for record in records])


def read_list_if_present(cls: Type[R], directory: Optional[str]) -> Optional[List[R]]:
    """The records of a JSON list file, or None without the folder or the file."""
    if not directory:
        return None
    values = artifacts.read_json_if_present(directory, cls.FILE)
    if values is None:
        return None
    return [cls.from_json(value, f"{cls.FILE}[{i}] ({cls.__name__})") for i, value in enumerate(values)]
