"""The enlarged-rate crop (iCartoonFace, "Enlarged rates", Table 3) on the real release and the synthetic faces."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from datasets.adapters import ADAPTERS
from datasets.face_crop import crop_enlarged
from datasets.generators.faces import CartoonFacesParams, plan
from datasets.spec import component_params

TRAIN = "personai_icartoonface_rectrain"
TEST = "personai_icartoonface_rectest"
WIDTH, HEIGHT = 80, 60
BOX = (20, 10, 60, 50)  # 40 x 40 pixels


def coordinate_image() -> np.ndarray:
    """Each pixel holds its own (x, y), so a crop shows where it was cut from."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.stack([xs, ys, np.zeros_like(xs)], axis=2).astype(np.uint8)


def write_lossless(path: Path) -> None:
    """The coordinate image under a ``.jpg`` name, PNG-encoded so no pixel changes (OpenCV reads by content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(".png", coordinate_image()[:, :, ::-1])
    assert ok
    path.write_bytes(encoded.tobytes())


def one_face_release(root: Path) -> Path:
    """One training face and one distractor, both annotated with ``BOX``."""
    write_lossless(root / TRAIN / "icartoonface_rectrain" / "char000" / "img0.jpg")
    (root / TRAIN / "icartoonface_rectrain_det.txt").write_text("char000/img0.jpg\t20\t10\t60\t50\n")
    write_lossless(root / TEST / "icartoonface_rectest" / "d0.jpg")
    (root / TEST / "icartoonface_rectest_info.txt").write_text("d0.jpg 20 10 60 50 -1\n")
    return root


# Hand-computed: the 40 x 40 box grows by r * 20 pixels on every side, clamped to the 80 x 60 picture.
EXPECTED = [
    (0.2, (16, 6, 64, 54), (4, 4, 44, 44)),
    (0.6, (8, 0, 72, 60), (12, 10, 52, 50)),
    (1.0, (0, 0, 80, 60), (20, 10, 60, 50)),
]


@pytest.mark.parametrize(("rate", "crop", "box_in_crop"), EXPECTED)
def test_the_release_is_cropped_around_its_annotated_box_at_the_enlarged_rate(
    tmp_path: Path, rate: float, crop: tuple[int, int, int, int], box_in_crop: tuple[int, int, int, int]
) -> None:
    root = one_face_release(tmp_path / "release")
    folder = tmp_path / "built"
    (folder / "images").mkdir(parents=True)
    adapter = ADAPTERS.get("icartoonface")
    items = adapter.fn(root, component_params(adapter.params_model, {"enlarged_rate": rate}), [], folder)
    assert len(items) == 2
    x1, y1, x2, y2 = crop
    for item in items:
        written = cv2.imread(str(folder / item.path))[:, :, ::-1]
        assert written.shape == (y2 - y1, x2 - x1, 3)
        assert tuple(written[0, 0, :2]) == (x1, y1)
        assert tuple(written[-1, -1, :2]) == (x2 - 1, y2 - 1)
        assert tuple(item.box) == box_in_crop


@pytest.mark.parametrize(("rate", "crop", "box_in_crop"), EXPECTED)
def test_the_shared_crop_gives_the_same_rectangle_and_box(
    rate: float, crop: tuple[int, int, int, int], box_in_crop: tuple[int, int, int, int]
) -> None:
    image, box = crop_enlarged(coordinate_image(), BOX, rate)
    x1, y1, x2, y2 = crop
    assert np.array_equal(image, coordinate_image()[y1:y2, x1:x2])
    assert box == box_in_crop


def made_items(tmp_path: Path, rate: float | None) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """The first four synthetic faces (image, box) at ``rate``; None writes the whole picture."""
    params = CartoonFacesParams(identities=2, images_per_identity=(2, 2), size=64, enlarged_rate=rate)
    folder = tmp_path / f"rate-{rate}"
    (folder / "images").mkdir(parents=True)
    count, make = plan(params, [], 0, folder)
    items = [make(index) for index in range(count)]
    return [(cv2.imread(str(folder / item.path))[:, :, ::-1], tuple(item.box)) for item in items]


@pytest.mark.parametrize("rate", [0.2, 0.6, 1.0])
def test_a_synthetic_face_at_a_rate_is_the_whole_picture_cropped_around_its_box(tmp_path: Path, rate: float) -> None:
    whole = made_items(tmp_path, None)
    cropped = made_items(tmp_path, rate)
    for (picture, box), (image, box_in_crop) in zip(whole, cropped):
        x1, y1, x2, y2 = box
        pad_x, pad_y = rate * (x2 - x1) / 2, rate * (y2 - y1) / 2
        left, top = max(0, int(np.floor(x1 - pad_x))), max(0, int(np.floor(y1 - pad_y)))
        right, bottom = min(64, int(np.ceil(x2 + pad_x))), min(64, int(np.ceil(y2 + pad_y)))
        assert np.array_equal(image, picture[top:bottom, left:right])
        assert box_in_crop == (x1 - left, y1 - top, x2 - left, y2 - top)


def test_a_smaller_rate_keeps_less_around_the_face(tmp_path: Path) -> None:
    areas = {rate: sum(image.shape[0] * image.shape[1] for image, _ in made_items(tmp_path, rate)) for rate in (0.2, 0.6, 1.0)}
    assert areas[0.2] < areas[0.6] < areas[1.0]


def test_the_rate_must_not_be_negative() -> None:
    with pytest.raises(ValueError):
        CartoonFacesParams(identities=2, images_per_identity=(1, 1), size=64, enlarged_rate=-0.2)
