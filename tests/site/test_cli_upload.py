"""The CLI's streamed multipart body parses back, with the standard library, to the fields and file sent."""

from __future__ import annotations

import email.parser
import email.policy
import zipfile

from toonbench_cli.upload import MultipartBody, zip_folder


def parse(body: bytes, content_type: str) -> dict[str, bytes]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()}


def test_the_streamed_body_holds_every_field_and_the_file_byte_for_byte(tmp_path) -> None:  # type: ignore[no-untyped-def]
    payload = bytes(range(256)) * 5000
    upload = tmp_path / "image.tar"
    upload.write_bytes(payload)
    seen: list[int] = []
    body = MultipartBody({"benchmark": "toonnet", "method_name": "Ünïcode method"}, "artefact", upload, seen.append)
    streamed = b"".join(iter(lambda: body.read(8192), b""))
    assert len(streamed) == len(body) and sum(seen) == len(body)
    parts = parse(streamed, body.content_type)
    assert parts["artefact"] == payload
    assert parts["benchmark"] == b"toonnet" and parts["method_name"].decode() == "Ünïcode method"


def test_a_predictions_folder_is_zipped_with_paths_relative_to_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "output"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "a.png").write_bytes(b"png")
    (folder / "scores.npy").write_bytes(b"npy")
    with zipfile.ZipFile(zip_folder(folder, tmp_path / "out.zip")) as archive:
        assert sorted(archive.namelist()) == ["images/a.png", "scores.npy"]
        assert archive.read("images/a.png") == b"png"
