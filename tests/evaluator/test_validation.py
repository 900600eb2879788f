"""Output validation: every broken output fails before scoring, with a message that says what was wrong."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem
from datasets.spec_models import BenchmarkSpec
from evaluator.validation import OutputError, validate_outputs

CLASSES = ["cat", "dog", "owl"]
IDS = ["0a1b", "3c4d", "7e8f", "9a0b"]


def make_spec(task: str, output_mb: int = 1) -> BenchmarkSpec:
    metric = {"classification": "topk_error", "identification_verification": "cmc_rank", "translation": "fid"}[task]
    return BenchmarkSpec.model_validate({
        "slug": f"toy-{task[:5]}", "title": "toy", "version": 1, "task": task,
        "classes": CLASSES if task == "classification" else [],
        "dataset": {"adapter": "none", "synthetic": {"generator": "none"}},
        "split": {"method": "none"},
        "metrics": [{"name": "m", "fn": metric, "higher_is_better": False}],
        "leaderboard": {"rank_by": "m"},
        "limits": {"output_mb": output_mb},
    })


def make_built(folder: Path, task: str, output_mb: int = 1) -> BuiltBenchmark:
    (folder / "images").mkdir(parents=True)
    items = []
    for index, item_id in enumerate(IDS):
        Image.new("RGB", (16, 12), (index * 40, 0, 0)).save(folder / "images" / f"{item_id}.png")
        items.append(ManifestItem(item_id, f"images/{item_id}.png", split="test", label=CLASSES[index % 3],
                                  identity=str(index), domain="photo"))
    return BuiltBenchmark(folder, make_spec(task, output_mb), items, None, "f" * 64, "synthetic")


@pytest.fixture
def classification(tmp_path: Path) -> tuple[BuiltBenchmark, Path]:
    output = tmp_path / "output"
    output.mkdir()
    return make_built(tmp_path / "bench", "classification"), output


@pytest.fixture
def faces(tmp_path: Path) -> tuple[BuiltBenchmark, Path]:
    output = tmp_path / "output"
    output.mkdir()
    return make_built(tmp_path / "bench", "identification_verification"), output


@pytest.fixture
def translation(tmp_path: Path) -> tuple[BuiltBenchmark, Path]:
    output = tmp_path / "output"
    (output / "images").mkdir(parents=True)
    built = make_built(tmp_path / "bench", "translation")
    for item_id in IDS:
        Image.new("RGB", (16, 12), (0, 90, 0)).save(output / "images" / f"{item_id}.png")
    return built, output


def write_csv(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")


def good_rows() -> list[str]:
    return [f"{item_id},0.1,0.2,0.7" for item_id in IDS]


def failure(built: BuiltBenchmark, output: Path, **options: float) -> str:
    with pytest.raises(OutputError) as caught:
        validate_outputs(built, output, **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_it_accepts_float32_scores_in_manifest_order(classification):
    built, output = classification
    scores = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(output / "scores.npy", scores)
    np.testing.assert_array_equal(validate_outputs(built, output), scores)


def test_it_reports_a_missing_output_file(classification):
    built, output = classification
    message = failure(built, output)
    assert "scores.npy: not found" in message and "scores.csv" in message and "[4, 3]" in message


def test_it_reports_a_missing_embeddings_file(faces):
    built, output = faces
    assert "embeddings.npy: not found" in failure(built, output)


def test_it_rejects_float64_scores_and_says_float32(classification):
    built, output = classification
    np.save(output / "scores.npy", np.zeros((4, 3), dtype=np.float64))
    message = failure(built, output)
    assert "dtype float64, expected float32" in message and "scores.npy" in message


def test_it_rejects_integer_embeddings(faces):
    built, output = faces
    np.save(output / "embeddings.npy", np.zeros((4, 8), dtype=np.int32))
    assert "dtype int32, expected float32" in failure(built, output)


def test_it_never_unpickles_object_arrays(classification):
    built, output = classification
    np.save(output / "scores.npy", np.array([{"a": 1}] * 4, dtype=object), allow_pickle=True)
    assert "pickled object array" in failure(built, output)


def test_it_rejects_a_wrong_row_count(classification):
    built, output = classification
    np.save(output / "scores.npy", np.zeros((5, 3), dtype=np.float32))
    assert "5 rows, expected 4" in failure(built, output)


def test_it_rejects_a_one_dimensional_array(classification):
    built, output = classification
    np.save(output / "scores.npy", np.zeros(4, dtype=np.float32))
    assert "shape (4,), expected a 2-D array with 4 rows" in failure(built, output)


def test_it_rejects_a_wrong_number_of_classes(classification):
    built, output = classification
    np.save(output / "scores.npy", np.zeros((4, 5), dtype=np.float32))
    assert "5 columns, expected 3" in failure(built, output)


def test_it_counts_nan_and_inf_and_names_the_first_row(faces):
    built, output = faces
    embeddings = np.ones((4, 2), dtype=np.float32)
    embeddings[2, 1] = np.nan
    embeddings[3, 0] = np.inf
    embeddings[3, 1] = -np.inf
    np.save(output / "embeddings.npy", embeddings)
    message = failure(built, output)
    assert "3 NaN or Inf values, first in row 2" in message and IDS[2] in message


def test_it_rejects_an_empty_embedding_dimension(faces):
    built, output = faces
    np.save(output / "embeddings.npy", np.zeros((4, 0), dtype=np.float32))
    assert "shape (4, 0)" in failure(built, output) and "at least 1" in failure(built, output)


def test_it_rejects_a_file_that_is_not_npy(faces):
    built, output = faces
    (output / "embeddings.npy").write_text("0.1,0.2\n")
    assert "embeddings.npy: not a .npy file" in failure(built, output)


def test_it_rejects_a_truncated_npy_file(faces):
    built, output = faces
    np.save(output / "embeddings.npy", np.zeros((4, 8), dtype=np.float32))
    (output / "embeddings.npy").write_bytes((output / "embeddings.npy").read_bytes()[:150])
    assert "embeddings.npy: not a readable .npy file" in failure(built, output)


def test_it_rejects_a_folder_named_like_the_output_file(faces):
    built, output = faces
    (output / "embeddings.npy").mkdir()
    assert "embeddings.npy: cannot be read" in failure(built, output)


def test_it_reorders_csv_rows_into_manifest_order(classification):
    built, output = classification
    rows = [f"{item_id},{index},0,0" for index, item_id in enumerate(IDS)]
    write_csv(output / "scores.csv", ["id,cat,dog,owl", *reversed(rows)])
    scores = validate_outputs(built, output)
    assert scores.dtype == np.float32
    np.testing.assert_array_equal(scores[:, 0], [0, 1, 2, 3])


def test_it_names_the_line_and_column_of_a_non_numeric_cell(classification):
    built, output = classification
    rows = good_rows()
    rows[1] = f"{IDS[1]},0.1,high,0.7"
    write_csv(output / "scores.csv", ["id,cat,dog,owl", *rows])
    message = failure(built, output)
    assert "scores.csv:3: column 'dog': 'high' is not a number" in message


def test_it_names_both_lines_of_a_duplicate_csv_id(classification):
    built, output = classification
    write_csv(output / "scores.csv", ["id,cat,dog,owl", *good_rows(), f"{IDS[0]},1,0,0"])
    assert f"scores.csv:6: id '{IDS[0]}' already given on line 2" in failure(built, output)


def test_it_rejects_an_id_that_is_not_a_test_item(classification):
    built, output = classification
    write_csv(output / "scores.csv", ["id,cat,dog,owl", *good_rows(), "ffff,1,0,0"])
    assert "scores.csv:6: id 'ffff' is not a test item" in failure(built, output)


def test_it_reports_missing_csv_ids(classification):
    built, output = classification
    write_csv(output / "scores.csv", ["id,cat,dog,owl", *good_rows()[:2]])
    assert f"2 of 4 test ids missing, first '{IDS[2]}'" in failure(built, output)


def test_it_requires_the_class_columns_in_manifest_order(classification):
    built, output = classification
    write_csv(output / "scores.csv", ["id,dog,cat,owl", *good_rows()])
    message = failure(built, output)
    assert "scores.csv:1: header 'id,dog,cat,owl', expected 'id,cat,dog,owl'" in message


def test_it_rejects_nan_in_a_csv(classification):
    built, output = classification
    rows = good_rows()
    rows[3] = f"{IDS[3]},nan,0,0"
    write_csv(output / "scores.csv", ["id,cat,dog,owl", *rows])
    assert f"1 NaN or Inf values, first in row 3 (id '{IDS[3]}')" in failure(built, output)


def test_it_refuses_both_npy_and_csv(classification):
    built, output = classification
    np.save(output / "scores.npy", np.zeros((4, 3), dtype=np.float32))
    write_csv(output / "scores.csv", ["id,cat,dog,owl", *good_rows()])
    assert "both scores.npy and scores.csv" in failure(built, output)


def test_it_accepts_translation_images_and_returns_them_in_input_order(translation):
    built, output = translation
    assert validate_outputs(built, output) == [output / "images" / f"{item_id}.png" for item_id in IDS]


def test_it_rejects_an_unreadable_png(translation):
    built, output = translation
    (output / "images" / f"{IDS[1]}.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert f"images/{IDS[1]}.png: not a readable PNG" in failure(built, output)


def test_it_rejects_a_png_of_the_wrong_size_with_both_sizes(translation):
    built, output = translation
    Image.new("RGB", (32, 32)).save(output / "images" / f"{IDS[0]}.png")
    assert f"{IDS[0]}.png: 32x32 pixels, expected 16x12" in failure(built, output)


def test_it_rejects_a_jpeg_named_png(translation):
    built, output = translation
    Image.new("RGB", (16, 12)).save(output / "images" / f"{IDS[0]}.png", format="JPEG")
    assert "a JPEG image, expected PNG" in failure(built, output)


def test_it_reports_missing_translation_images(translation):
    built, output = translation
    (output / "images" / f"{IDS[3]}.png").unlink()
    assert f"1 of 4 output images missing, first {IDS[3]}.png" in failure(built, output)


def test_it_rejects_extra_translation_images(translation):
    built, output = translation
    Image.new("RGB", (16, 12)).save(output / "images" / "extra.png")
    assert "1 unexpected entries, first 'extra.png'" in failure(built, output)


def test_it_enforces_the_output_size_cap(faces):
    built, output = faces
    np.save(output / "embeddings.npy", np.zeros((4, 2), dtype=np.float32))
    (output / "padding.bin").write_bytes(b"\0" * (2 * 1024 * 1024))
    message = failure(built, output)
    assert "holds 2.0 MB, over the benchmark's limit of 1 MB (limits.output_mb)" in message


def test_the_size_cap_can_be_raised_by_the_caller(faces):
    built, output = faces
    np.save(output / "embeddings.npy", np.zeros((4, 2), dtype=np.float32))
    (output / "padding.bin").write_bytes(b"\0" * (2 * 1024 * 1024))
    assert validate_outputs(built, output, output_mb=3).shape == (4, 2)


def test_it_rejects_symbolic_links(faces, tmp_path):
    built, output = faces
    outside = tmp_path / "secret.npy"
    np.save(outside, np.zeros((4, 2), dtype=np.float32))
    os.symlink(outside, output / "embeddings.npy")
    assert "embeddings.npy: symbolic links are not allowed" in failure(built, output)


def test_it_reports_a_missing_output_folder(faces, tmp_path):
    built, _ = faces
    assert "output folder not found" in failure(built, tmp_path / "nowhere")
