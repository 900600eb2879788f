"""Reading image references: which name a registry, which are bare engine names, which hosts are one registry."""

from __future__ import annotations

import pytest

from evaluator.registry_client import BadReference, ImageReference, parse_reference, same_registry

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:5000/alice/model:1", ImageReference("127.0.0.1:5000", "alice/model", "1")),
    ("localhost:5000/alice/model", ImageReference("localhost:5000", "alice/model")),
    ("registry.example.org/team/sub/model:1.0-rc_2", ImageReference("registry.example.org", "team/sub/model", "1.0-rc_2")),
    (f"ghcr.io/org/model:1@{DIGEST}", ImageReference("ghcr.io", "org/model", "1", DIGEST)),
    ("docker.io/python:3.12", ImageReference("docker.io", "library/python", "3.12")),
])
def test_references_that_name_a_registry_are_read_in_full(text: str, expected: ImageReference) -> None:
    parsed = parse_reference(text)
    assert parsed == expected
    assert parsed.pinned(DIGEST) == f"{expected.host}/{expected.repository}@{DIGEST}"
    assert parsed.api_host == ("registry-1.docker.io" if expected.host == "docker.io" else expected.host)


@pytest.mark.parametrize(("text", "reason"), [
    ("newbie/const:1", "names no registry host"),
    ("model", "names no registry host"),
    (DIGEST, "is a bare image id"),
    ("ab" * 32, "is a bare image id"),
    ("0123456789ab", "is a bare image id"),
    ("registry.example.org/Team/model:1", "is not a container image reference"),
    ("registry.example.org/team/model:bad tag", "is not a container image reference"),
    ("registry.example.org/team/model@sha256:short", "is not a container image reference"),
    ("bad_host.example.org/team/model:1", "is not a container image reference"),
])
def test_bare_names_ids_and_malformed_references_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(BadReference, match=reason):
        parse_reference(text)


def test_loopback_spellings_of_one_registry_are_the_same_registry() -> None:
    assert same_registry("localhost:5000", "127.0.0.1:5000") and same_registry("[::1]:5000", "127.0.0.1:5000")
    assert not same_registry("127.0.0.1:5001", "127.0.0.1:5000")
    assert not same_registry("registry.example.org:5000", "127.0.0.1:5000")
