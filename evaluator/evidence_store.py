"""Per-item evidence kept with a result, so two results can be compared item by item later.

A scored result keeps the evidence its metrics reduced (``EvaluationResult.evidence``,
kind -> evidence dataclass). :func:`evidence_bytes` writes every field of every
evidence into one ``.npz`` archive, each under ``<kind>.<field>``;
:func:`load_evidence` reads such an archive back into the same dataclasses. The
conversion is generic: a field is stored as the array ``numpy.asarray`` makes of
it and converted back by its annotated type (``np.ndarray`` as it is, ``int``,
``float``, ``bool`` and ``str`` from a 0-d array, ``tuple[X, ...]`` element by
element), so a new evidence type needs no code here beyond
:func:`evaluator.metrics.register_evidence` on the dataclass.

Evidence is derived from the test truth (true classes, identities, same/different
pairs, the hidden reference set's features): it stays on the server and is never
served (docs/security.md). Archives are read with ``allow_pickle=False``; any
archive that cannot be read back into its dataclass raises :class:`EvidenceError`
with a one-line reason.
"""

from __future__ import annotations

import io
import typing
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any

import numpy as np

from evaluator.metrics import EVIDENCE_TYPES

# What a damaged archive raises from numpy's reader: a bad zip, a bad member, a bad .npy header.
_READ_ERRORS = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, NotImplementedError)


class EvidenceError(ValueError):
    """Evidence that cannot be stored or read back; the message is one line."""


def evidence_bytes(evidences: Mapping[str, Any]) -> bytes:
    """One compressed ``.npz`` holding every field of every evidence, keyed ``<kind>.<field>``."""
    arrays: dict[str, np.ndarray] = {}
    for kind, evidence in evidences.items():
        expected = EVIDENCE_TYPES.get(kind) if kind in EVIDENCE_TYPES else None
        if expected is None or type(evidence) is not expected:
            raise EvidenceError(f"no registered evidence type for kind {kind!r} ({type(evidence).__name__})")
        for item in fields(evidence):
            array = np.asarray(getattr(evidence, item.name))
            if array.dtype.hasobject:
                raise EvidenceError(f"{kind}.{item.name} is not a plain array ({array.dtype})")
            arrays[f"{kind}.{item.name}"] = array
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def load_evidence(data: bytes) -> dict[str, Any]:
    """The evidences written by :func:`evidence_bytes` (``EvidenceError`` when they cannot be read)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except _READ_ERRORS as exc:
        raise EvidenceError(f"evidence archive unreadable: {type(exc).__name__}: {_one_line(exc)}") from None
    by_kind: dict[str, dict[str, np.ndarray]] = {}
    for key, array in arrays.items():
        kind, _, name = key.partition(".")
        by_kind.setdefault(kind, {})[name] = array
    return {kind: _rebuild(kind, stored) for kind, stored in by_kind.items()}


def _rebuild(kind: str, stored: dict[str, np.ndarray]) -> Any:
    if kind not in EVIDENCE_TYPES:
        raise EvidenceError(f"evidence archive holds unknown kind {kind!r}")
    evidence_type = EVIDENCE_TYPES.get(kind)
    hints = typing.get_type_hints(evidence_type)
    names = {item.name for item in fields(evidence_type)}
    if unknown := sorted(set(stored) - names):
        raise EvidenceError(f"evidence archive holds unknown fields of {kind!r}: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for item in fields(evidence_type):
        if item.name in stored:
            values[item.name] = _as_type(stored[item.name], hints[item.name], f"{kind}.{item.name}")
        elif item.default is MISSING and item.default_factory is MISSING:
            raise EvidenceError(f"evidence archive lacks {kind}.{item.name}")
    return evidence_type(**values)


def _as_type(array: np.ndarray, hint: Any, key: str) -> Any:
    """A stored array as the field's annotated type."""
    if hint is np.ndarray:
        return array
    if typing.get_origin(hint) is tuple:
        element = typing.get_args(hint)[0]
        if array.ndim != 1:
            raise EvidenceError(f"{key}: expected a 1-d array, got shape {array.shape}")
        return tuple(element(value) for value in array.tolist())
    if hint in (int, float, bool, str):
        if array.ndim != 0:
            raise EvidenceError(f"{key}: expected a single value, got shape {array.shape}")
        return hint(array.item())
    raise EvidenceError(f"{key}: cannot store a field annotated {hint!r}")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
