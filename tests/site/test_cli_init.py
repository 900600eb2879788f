"""``toonbench init`` writes the starting kit a bundle carries; ``toonbench push`` names the method after the image."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from toonbench_cli.client import ClientError
from toonbench_cli.init import kit_members, write_kit
from toonbench_cli.main import build_parser


def bundle_with(tmp_path: Path, entries: dict[str, bytes]) -> Path:
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_it_writes_the_kit_files_of_the_bundle_and_nothing_else(tmp_path: Path) -> None:
    bundle = bundle_with(tmp_path, {"toonnet/starter_kit/predict.py": b"print(1)\n", "toonnet/starter_kit/Dockerfile": b"FROM x\n",
                                    "toonnet/README.md": b"protocol"})

    written = write_kit(kit_members(bundle, "toonnet"), tmp_path / "kit", force=False)

    assert sorted(p.name for p in written) == ["Dockerfile", "predict.py"]
    assert (tmp_path / "kit" / "predict.py").read_bytes() == b"print(1)\n"


def test_it_refuses_to_overwrite_without_force_and_a_bundle_without_kit(tmp_path: Path) -> None:
    (tmp_path / "kit").mkdir()
    (tmp_path / "kit" / "predict.py").write_text("mine")
    with pytest.raises(ClientError, match="--force"):
        write_kit({"predict.py": b"theirs"}, tmp_path / "kit", force=False)
    assert (tmp_path / "kit" / "predict.py").read_text() == "mine"
    with pytest.raises(ClientError, match="no starting kit"):
        kit_members(bundle_with(tmp_path, {"toonnet/README.md": b"x"}), "toonnet")


def test_push_needs_no_method() -> None:
    args = build_parser().parse_args(["push", "toonnet", "mymodel:1"])
    assert args.method is None and args.image == "mymodel:1"
