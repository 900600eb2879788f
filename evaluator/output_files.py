"""The checks every task's output loader shares (DESIGN.md §3).

Every problem is an ``OutputError`` with a one-line message that names the
file (and line or row) and says what was expected, so a participant can fix
it without reading our code. The task modules (``evaluator.tasks``) build
their loaders from these pieces; ``evaluator.validation`` runs them.

Decisions:
- arrays must be float32 as the contract says; float64, float16, integer and
  object arrays are rejected (the message says how to convert);
- ``.npy`` files are loaded with ``allow_pickle=False``: pickled object arrays
  are never unpickled;
- only plain files count: a symbolic link anywhere under ``/output`` is
  rejected, so a container cannot point the evaluator at files outside it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluator.runners.base import inspect_output, output_size_reason

MEGABYTE = 1024 * 1024
NPY_MAGIC = b"\x93NUMPY"


class OutputError(ValueError):
    """A submission's output breaks the container contract; the message says how."""


def check_output_folder(output_dir: Path, output_mb: float | None) -> None:
    """The folder exists, holds only plain files and folders (no links), and stays under the caps.

    The walk is iterative and bounded (``MAX_OUTPUT_DEPTH`` levels,
    ``MAX_OUTPUT_ENTRIES`` entries), so no folder chain or flood of files
    can crash or stall it.
    """
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        raise OutputError(f"{output_dir}: output folder not found")
    limit_bytes = int(output_mb * MEGABYTE) if output_mb is not None else sys.maxsize
    check = inspect_output(output_dir, limit_bytes)
    if check.problem is not None:
        raise OutputError(check.problem)
    if check.too_large(limit_bytes):
        raise OutputError(output_size_reason(str(output_dir), check, float(output_mb or 0)))


def load_npy(path: Path) -> np.ndarray:
    """One array from a real .npy file; never unpickles (object arrays are refused)."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(len(NPY_MAGIC))
    except OSError as exc:
        raise OutputError(f"{path}: cannot be read ({first_line(exc)})") from None
    if magic != NPY_MAGIC:
        kind = "an .npz archive" if magic.startswith(b"PK") else "not a .npy file"
        raise OutputError(f"{path}: {kind}; expected one float32 array written with np.save")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise OutputError(f"{path}: holds a pickled object array, expected a float32 array") from None
        raise OutputError(f"{path}: not a readable .npy file ({first_line(exc)})") from None
    except (OSError, EOFError) as exc:
        raise OutputError(f"{path}: not a readable .npy file ({first_line(exc)})") from None


def check_matrix(path: Path, array: np.ndarray, rows: int, what: str) -> None:
    """A float32 2-D array with one row per input item."""
    if array.dtype != np.float32:
        raise OutputError(
            f"{path}: dtype {array.dtype}, expected float32 (save with np.save(path, {what}.astype(np.float32)))"
        )
    if array.ndim != 2:
        raise OutputError(f"{path}: shape {array.shape}, expected a 2-D array with {rows} rows")
    if array.shape[0] != rows:
        raise OutputError(
            f"{path}: {array.shape[0]} rows, expected {rows} (one per item of manifest.json, in its order)"
        )


def check_finite(path: Path, array: np.ndarray, ids: Sequence[str]) -> None:
    """No NaN or Inf; the message names the first bad row and its id."""
    bad = ~np.isfinite(array)
    count = int(bad.sum())
    if count:
        row = int(np.argmax(bad.reshape(len(array), -1).any(axis=1)))
        raise OutputError(f"{path}: {count} NaN or Inf values, first in row {row} (id {ids[row]!r})")


def parse_cell(path: Path, line: int, column: str, cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise OutputError(f"{path}:{line}: column {column!r}: {cell.strip()!r} is not a number") from None


def preview(cells: Sequence[str], limit: int = 6) -> str:
    shown = ",".join(cells[:limit])
    return f"'{shown},...' ({len(cells)} columns)" if len(cells) > limit else f"'{shown}'"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
