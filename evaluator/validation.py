"""Load and check a submission's ``/output`` before any scoring (DESIGN.md §3).

Every problem is an ``OutputError`` with a one-line message that names the
file (and line or row) and says what was expected, so a participant can fix
it without reading our code.

Decisions:
- arrays must be float32 as the contract says; float64, float16, integer and
  object arrays are rejected (the message says how to convert);
- ``.npy`` files are loaded with ``allow_pickle=False``: pickled object arrays
  are never unpickled;
- ``scores.csv`` columns must be ``id`` then the class names in the order of
  manifest.json's ``classes``; its rows may come in any order and are
  reordered to the manifest order;
- only plain files count: a symbolic link anywhere under ``/output`` is
  rejected, so a container cannot point the evaluator at files outside it.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from datasets.build import BuiltBenchmark
from evaluator.contract import EMBEDDINGS_NPY, OUTPUT_IMAGES_DIR, SCORES_CSV, SCORES_NPY, input_items
from evaluator.runners.base import MAX_OUTPUT_ENTRIES, inspect_output

MEGABYTE = 1024 * 1024
NPY_MAGIC = b"\x93NUMPY"


class OutputError(ValueError):
    """A submission's output breaks the container contract; the message says how."""


@dataclass(frozen=True)
class InputImage:
    """One translation input: its id and size (width, height) in pixels."""

    id: str
    size: tuple[int, int]


Validated = np.ndarray | list[Path]


def validate_outputs(built: BuiltBenchmark, output_dir: Path, *, output_mb: float | None = None) -> Validated:
    """Check a whole output folder against the benchmark's contract before scoring.

    Returns the clean material to score: scores ``[N, C]`` for classification,
    embeddings ``[N, D]`` for identification_verification (rows in manifest
    order), or the output PNG paths in input order for translation.
    ``output_mb`` defaults to the spec's ``limits.output_mb``.
    """
    output_dir = Path(output_dir)
    spec = built.spec
    check_output_folder(output_dir, spec.limits.output_mb if output_mb is None else output_mb)
    items = input_items(built)
    ids = [item.id for item in items]
    if spec.task == "classification":
        return load_scores(output_dir, ids, spec.classes)
    if spec.task == "identification_verification":
        return load_embeddings(output_dir, ids)
    inputs = [InputImage(item.id, _image_size(built.folder / item.path)) for item in items]
    return check_translation_images(output_dir, inputs)


def _image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


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
    if check.entries > MAX_OUTPUT_ENTRIES:
        raise OutputError(f"{output_dir}: more than {MAX_OUTPUT_ENTRIES} files or folders in the output")
    if check.problem is not None:
        raise OutputError(check.problem)
    if check.total_bytes > limit_bytes:
        raise OutputError(
            f"{output_dir}: output folder holds {check.total_bytes / MEGABYTE:.1f} MB, over the "
            f"benchmark's limit of {output_mb:g} MB (limits.output_mb)"
        )


def load_scores(output_dir: Path, ids: Sequence[str], class_names: Sequence[str]) -> np.ndarray:
    """Classification scores as float32 ``[N, C]`` in manifest order, from scores.npy or scores.csv."""
    output_dir = Path(output_dir)
    npy, table = output_dir / SCORES_NPY, output_dir / SCORES_CSV
    if npy.exists() and table.exists():
        raise OutputError(f"{output_dir}: both {SCORES_NPY} and {SCORES_CSV} present; keep only one")
    if table.exists():
        return load_scores_csv(table, ids, class_names)
    if not npy.exists():
        raise OutputError(
            f"{npy}: not found; expected {SCORES_NPY} (float32 [{len(ids)}, {len(class_names)}]) or {SCORES_CSV}"
        )
    scores = _load_npy(npy)
    _check_matrix(npy, scores, len(ids), "scores")
    if scores.shape[1] != len(class_names):
        raise OutputError(
            f"{npy}: {scores.shape[1]} columns, expected {len(class_names)} "
            "(one per class, in the order of manifest.json 'classes')"
        )
    _check_finite(npy, scores, ids)
    return scores


def load_embeddings(output_dir: Path, ids: Sequence[str]) -> np.ndarray:
    """Embeddings as float32 ``[N, D]`` (D >= 1) in manifest order."""
    path = Path(output_dir) / EMBEDDINGS_NPY
    if not path.exists():
        raise OutputError(f"{path}: not found; expected {EMBEDDINGS_NPY} (float32 [{len(ids)}, D])")
    embeddings = _load_npy(path)
    _check_matrix(path, embeddings, len(ids), "embeddings")
    if embeddings.shape[1] < 1:
        raise OutputError(f"{path}: shape {embeddings.shape}; the embedding dimension D must be at least 1")
    _check_finite(path, embeddings, ids)
    return embeddings


def load_scores_csv(path: Path, ids: Sequence[str], class_names: Sequence[str]) -> np.ndarray:
    """Read ``id,<class names...>`` rows (any row order) into float32 ``[N, C]`` in manifest order."""
    try:
        return _read_scores_csv(path, ids, class_names)
    except UnicodeDecodeError as exc:
        raise OutputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise OutputError(f"{path}: not a readable CSV file ({_first_line(exc)})") from None


def _read_scores_csv(path: Path, ids: Sequence[str], class_names: Sequence[str]) -> np.ndarray:
    expected_header = ["id", *class_names]
    row_of_id = {item_id: row for row, item_id in enumerate(ids)}
    scores = np.full((len(ids), len(class_names)), np.nan, dtype=np.float64)
    line_of_id: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise OutputError(f"{path}: empty file; expected header {','.join(expected_header)}")
        header = [cell.strip() for cell in header]
        if header != expected_header:
            raise OutputError(f"{path}:1: header {_preview(header)}, expected {_preview(expected_header)}")
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(expected_header):
                raise OutputError(
                    f"{path}:{line}: {len(cells)} cells, expected {len(expected_header)} (id and one per class)"
                )
            item_id = cells[0].strip()
            if item_id in line_of_id:
                raise OutputError(f"{path}:{line}: id {item_id!r} already given on line {line_of_id[item_id]}")
            if item_id not in row_of_id:
                raise OutputError(f"{path}:{line}: id {item_id!r} is not a test item of manifest.json")
            line_of_id[item_id] = line
            values = [_parse_cell(path, line, name, cell) for name, cell in zip(class_names, cells[1:])]
            scores[row_of_id[item_id]] = values
    missing = [item_id for item_id in ids if item_id not in line_of_id]
    if missing:
        raise OutputError(f"{path}: {len(missing)} of {len(ids)} test ids missing, first {missing[0]!r}")
    scores = scores.astype(np.float32)
    _check_finite(path, scores, ids)
    return scores


def check_translation_images(output_dir: Path, inputs: Sequence[InputImage]) -> list[Path]:
    """One readable PNG per input, named ``images/<id>.png``, the same size; returns them in input order."""
    folder = Path(output_dir) / OUTPUT_IMAGES_DIR
    if not folder.is_dir():
        raise OutputError(f"{folder}: not found; expected one PNG per input image ({len(inputs)}) named <id>.png")
    expected_names = {f"{image.id}.png" for image in inputs}
    extra = sorted(path.name for path in folder.iterdir() if path.name not in expected_names)
    if extra:
        raise OutputError(
            f"{folder}: {len(extra)} unexpected entries, first {extra[0]!r}; expected only <id>.png for the input ids"
        )
    missing = [image.id for image in inputs if not (folder / f"{image.id}.png").is_file()]
    if missing:
        raise OutputError(f"{folder}: {len(missing)} of {len(inputs)} output images missing, first {missing[0]}.png")
    paths = []
    for image in inputs:
        path = folder / f"{image.id}.png"
        _check_png(path, image.size)
        paths.append(path)
    return paths


def _check_png(path: Path, expected: tuple[int, int]) -> None:
    """A PNG of the expected size (checked from the header first) that decodes fully."""
    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise OutputError(f"{path}: a {image.format} image, expected PNG")
            if image.size != expected:
                width, height = image.size
                raise OutputError(
                    f"{path}: {width}x{height} pixels, expected {expected[0]}x{expected[1]} (the input's size)"
                )
            image.load()
    except OutputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise OutputError(f"{path}: not a readable PNG ({_first_line(exc)})") from None


def _load_npy(path: Path) -> np.ndarray:
    """One array from a real .npy file; never unpickles (object arrays are refused)."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(len(NPY_MAGIC))
    except OSError as exc:
        raise OutputError(f"{path}: cannot be read ({_first_line(exc)})") from None
    if magic != NPY_MAGIC:
        kind = "an .npz archive" if magic.startswith(b"PK") else "not a .npy file"
        raise OutputError(f"{path}: {kind}; expected one float32 array written with np.save")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise OutputError(f"{path}: holds a pickled object array, expected a float32 array") from None
        raise OutputError(f"{path}: not a readable .npy file ({_first_line(exc)})") from None
    except (OSError, EOFError) as exc:
        raise OutputError(f"{path}: not a readable .npy file ({_first_line(exc)})") from None


def _check_matrix(path: Path, array: np.ndarray, rows: int, what: str) -> None:
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


def _check_finite(path: Path, array: np.ndarray, ids: Sequence[str]) -> None:
    bad = ~np.isfinite(array)
    count = int(bad.sum())
    if count:
        row = int(np.argmax(bad.any(axis=1)))
        raise OutputError(f"{path}: {count} NaN or Inf values, first in row {row} (id {ids[row]!r})")


def _parse_cell(path: Path, line: int, column: str, cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise OutputError(f"{path}:{line}: column {column!r}: {cell.strip()!r} is not a number") from None


def _preview(cells: Sequence[str], limit: int = 6) -> str:
    shown = ",".join(cells[:limit])
    return f"'{shown},...' ({len(cells)} columns)" if len(cells) > limit else f"'{shown}'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
