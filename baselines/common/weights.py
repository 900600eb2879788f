"""Checkpoint files: arrays in ``.npy`` members plus one JSON document, in a zip (an ``.npz`` numpy reads).

A checkpoint is a tree of dicts, lists, strings, numbers, numpy arrays and
torch tensors. Every array or tensor is written as ``arrays/<n>.npy`` (no
object arrays, so nothing is ever pickled) and the rest of the tree as
``payload.json``, where each array stands as ``{"$array": n, "torch": bool}``.
Reading rebuilds the same tree on the CPU, tensors as torch tensors, with
``allow_pickle=False``: a file written by one environment (training on this
machine, a different numpy or torch) is read the same way by another (the
baseline images). See ``baselines.checkpoints`` for where the files live.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

PAYLOAD = "payload.json"
ARRAY_KEY = "$array"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write atomically (temporary file, then rename) so a killed run leaves no half file.

    Every member carries the same fixed date, so the same payload always gives the same bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: list[np.ndarray] = []
    document = _encode(payload, arrays, "payload")
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_member(PAYLOAD), json.dumps(document, sort_keys=True))
        for index, array in enumerate(arrays):
            with archive.open(_member(f"arrays/{index}.npy"), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    partial.replace(path)
    return path


def _member(name: str) -> zipfile.ZipInfo:
    return zipfile.ZipInfo(name, date_time=FIXED_DATE)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The tree ``save_checkpoint`` wrote; never unpickles anything."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint; train it with: python -m baselines train")
    try:
        with zipfile.ZipFile(path) as archive:
            document = json.loads(archive.read(PAYLOAD))
            return _decode(document, archive, path)
    except (zipfile.BadZipFile, KeyError) as error:
        raise ValueError(f"{path}: not a checkpoint of this version ({error}); retrain it: python -m baselines train --retrain") from None


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _encode(value: Any, arrays: list[np.ndarray], where: str) -> Any:
    if isinstance(value, dict):
        return {_key(key, where): _encode(item, arrays, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item, arrays, f"{where}[{index}]") for index, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return _store(value, arrays, torch=False, where=where)
    if _is_tensor(value):
        return _store(value.detach().cpu().numpy(), arrays, torch=True, where=where)
    raise TypeError(f"{where}: a checkpoint holds dicts, lists, numbers, strings and arrays, not {type(value).__name__}")


def _key(key: Any, where: str) -> str:
    if not isinstance(key, str) or key == ARRAY_KEY:
        raise TypeError(f"{where}: checkpoint keys are strings other than {ARRAY_KEY!r}, got {key!r}")
    return key


def _store(array: np.ndarray, arrays: list[np.ndarray], torch: bool, where: str) -> dict[str, Any]:
    if array.dtype == object:
        raise TypeError(f"{where}: object arrays would need pickle; store numbers or strings instead")
    arrays.append(np.ascontiguousarray(array))
    return {ARRAY_KEY: len(arrays) - 1, "torch": torch}


def _decode(value: Any, archive: zipfile.ZipFile, path: Path) -> Any:
    if isinstance(value, list):
        return [_decode(item, archive, path) for item in value]
    if not isinstance(value, dict):
        return value
    if ARRAY_KEY in value:
        array = np.lib.format.read_array(io.BytesIO(archive.read(f"arrays/{value[ARRAY_KEY]}.npy")), allow_pickle=False)
        return _as_tensor(array) if value.get("torch") else array
    return {key: _decode(item, archive, path) for key, item in value.items()}


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")  # only a module that holds tensors has imported torch
    return torch is not None and isinstance(value, torch.Tensor)


def _as_tensor(array: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(array)
