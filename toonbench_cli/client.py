"""Calls to a ToonBench server's REST API; every failure becomes a ``ClientError`` with the server's reason."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import requests

from toonbench_cli.upload import MultipartBody

TIMEOUT_S = 60
CHUNK_BYTES = 1 << 20
CHUNK_CONTENT_TYPE = "application/offset+octet-stream"
API_PREFIX = "api/v1/"
ERROR_CHARS = 300


class ClientError(Exception):
    """A request failed or a command cannot go on; the message says what the server (or the network) answered.

    ``status`` is the HTTP status, or None when no answer came or nothing was sent;
    ``unreachable`` is true when the server could not be reached at all.
    """

    def __init__(self, message: str, status: int | None = None, unreachable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.unreachable = unreachable


class Client:
    def __init__(self, server: str, token: str | None = None) -> None:
        self.server = server.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def url(self, path: str) -> str:
        return f"{self.server}/{API_PREFIX}{path.lstrip('/')}"

    def request(self, method: str, path: str, accept: tuple[int, ...] = (), **options: Any) -> requests.Response:
        """Send a request; an HTTP error status raises ``ClientError`` unless it is in ``accept``."""
        options.setdefault("timeout", TIMEOUT_S)
        try:
            response = self.session.request(method, self.url(path), **options)
        except requests.ConnectionError as exc:
            raise ClientError(f"cannot reach {self.server} ({exc.__class__.__name__}); check --server",
                              unreachable=True) from None
        except requests.Timeout:
            raise ClientError(f"{self.server} did not answer within {options['timeout']} s", unreachable=True) from None
        if response.status_code >= 400 and response.status_code not in accept:
            raise ClientError(f"HTTP {response.status_code}: {error_text(response)}", response.status_code)
        return response

    def get_json(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v}).json()

    def obtain_token(self, username: str, password: str) -> str:
        return str(self.request("POST", "auth/token/", data={"username": username, "password": password}).json()["token"])

    def benchmarks(self) -> list[dict[str, Any]]:
        return list(self.get_json("benchmarks/"))

    def leaderboard(self, slug: str, sort: str | None = None, version: str | None = None) -> dict[str, Any]:
        return dict(self.get_json(f"benchmarks/{slug}/leaderboard/", sort=sort, version=version))

    def leaderboard_csv(self, slug: str, sort: str | None = None, version: str | None = None) -> str:
        params = {"format": "csv", **{k: v for k, v in {"sort": sort, "version": version}.items() if v}}
        return self.request("GET", f"benchmarks/{slug}/leaderboard/", params=params,
                            headers={"Accept": "text/csv"}).text

    def submission(self, submission_id: int) -> dict[str, Any]:
        return dict(self.get_json(f"submissions/{submission_id}/"))

    def submissions(self, filters: dict[str, Any]) -> dict[str, Any]:
        """One page of your submissions: ``{"count", "next", "previous", "results"}``."""
        return dict(self.get_json("submissions/", **filters))

    def cancel(self, submission_id: int) -> dict[str, Any]:
        """Cancel a queued or running submission; one that already ended is refused (HTTP 409)."""
        return dict(self.request("POST", f"submissions/{submission_id}/cancel/").json())

    def rerun(self, submission_id: int) -> dict[str, Any]:
        """A new submission with the same artefact, queued; counts against the daily quota."""
        return dict(self.request("POST", f"submissions/{submission_id}/rerun/").json())

    def edit(self, submission_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("PATCH", f"submissions/{submission_id}/", json=changes).json())

    def delete(self, submission_id: int) -> None:
        self.request("DELETE", f"submissions/{submission_id}/")

    def download_bundle(self, slug: str, destination: Path | None,
                        on_start: Callable[[int], None], on_chunk: Callable[[int], None]) -> Path:
        """Stream the protocol bundle to ``destination`` (default: the server's file name, here)."""
        response = self.request("GET", f"benchmarks/{slug}/bundle/", stream=True, headers={"Accept": "*/*"})
        target = destination or Path(attachment_name(response) or f"{slug}-bundle.zip")
        if target.is_dir():
            target = target / (attachment_name(response) or f"{slug}-bundle.zip")
        on_start(int(response.headers.get("Content-Length") or 0))
        partial = target.with_name(target.name + ".partial")
        with response, open(partial, "wb") as sink:
            for chunk in response.iter_content(CHUNK_BYTES):
                sink.write(chunk)
                on_chunk(len(chunk))
        partial.replace(target)
        return target

    def submit(self, fields: dict[str, str], file_path: Path | None,
               on_start: Callable[[int], None], on_read: Callable[[int], None]) -> dict[str, Any]:
        body = MultipartBody(fields, "artefact" if file_path else None, file_path, on_read)
        on_start(len(body))
        try:
            response = self.request("POST", "submissions/", data=body,
                                    headers={"Content-Type": body.content_type}, timeout=None)
        finally:
            body.close()
        return dict(response.json())

    def create_upload(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Open a resumable upload (benchmark, kind, filename, total_bytes, sha256)."""
        return dict(self.request("POST", "uploads/", json=fields).json())

    def upload_status(self, upload_id: str) -> dict[str, Any]:
        return dict(self.get_json(f"uploads/{upload_id}/"))

    def upload_offset(self, upload_id: str) -> int:
        return int(self.request("HEAD", f"uploads/{upload_id}/").headers["Upload-Offset"])

    def append_chunk(self, upload_id: str, offset: int, body: Any) -> int:
        """Send one chunk that starts at ``offset``; returns the server's offset after it.

        A 409 (the server is elsewhere) also returns the server's offset: where to go on from.
        """
        headers = {"Upload-Offset": str(offset), "Content-Type": CHUNK_CONTENT_TYPE}
        response = self.request("PATCH", f"uploads/{upload_id}/", accept=(409,), data=body, headers=headers)
        return int(response.headers["Upload-Offset"])

    def complete_upload(self, upload_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Submit the complete upload; the server hashes and checks it first, so no timeout."""
        return dict(self.request("POST", f"uploads/{upload_id}/complete/", json=fields, timeout=None).json())


def attachment_name(response: requests.Response) -> str | None:
    match = re.search(r'filename="?([^";]+)"?', response.headers.get("Content-Disposition", ""))
    return Path(match.group(1)).name if match else None


def error_text(response: requests.Response) -> str:
    """The server's reason on one line: ``{"error": ...}``, else DRF's ``detail`` or field errors, else the text.

    An HTML page (a proxy's, or a server without this API) is not quoted: only its status reason is.
    """
    try:
        body = response.json()
    except ValueError:
        if "html" in response.headers.get("Content-Type", ""):
            return f"{response.reason} (not an answer of the ToonBench API; check --server)"
        return one_line(response.text) or str(response.reason)
    if isinstance(body, dict):
        if "error" in body:
            return one_line(str(body["error"]))
        if "detail" in body:
            return one_line(str(body["detail"]))
        return one_line("; ".join(
            f"{field}: {' '.join(map(str, problems)) if isinstance(problems, list) else problems}"
            for field, problems in body.items()))
    return one_line(str(body))


def one_line(text: str) -> str:
    """``text`` with its whitespace runs collapsed, cut at ``ERROR_CHARS``."""
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= ERROR_CHARS else collapsed[:ERROR_CHARS - 1] + "…"
