"""A hostile participant's registry, through the real submit API and the worker's pre-pull check.

The participant's registry is a stub on loopback under a name the tests'
resolver controls (``registry.participant.test``), listed by the operator
as a private registry, so the guard lets the site reach it; what it names
(token realms, redirects, other addresses) must still pass the guard. The
"internal service" is a second stub that a participant must never reach,
and whose words must never come back in a message.
"""

from __future__ import annotations

import html
import hashlib
import json
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import urllib3.util.connection
from rest_framework.authtoken.models import Token

from evaluator.egress import CHUNK_BYTES
from evaluator.registry_client import MAX_MANIFEST_BYTES, parse_reference
from evaluator.runners.base import ImageUnavailable
from evaluator.runners.images import checked_size
from registry.policy import pull_settings
from stub_servers import SEND_BUFFER_BYTES, FakeNames, FakeRoutes, Reply, Request, StubServer, json_reply
from submissions.models import Submission

pytestmark = pytest.mark.django_db

NAME = "registry.participant.test"
SECRET = "INTERNAL-SERVICE-SECRET-7f3a"
PUBLIC = "93.184.216.34"  # a global address; FakeRoutes carries connections to it to a loopback stub
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def image_manifest(layer_byte: str = "2") -> bytes:
    return json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "1" * 64,
                   "size": 100},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + layer_byte * 64, "size": 1000}],
    }).encode()


def image_index(child: bytes) -> bytes:
    return json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest_of(child), "size": len(child),
                       "platform": {"os": "linux", "architecture": "amd64"}},
                      {"mediaType": OCI_MANIFEST, "digest": digest_of(child), "size": len(child),
                       "platform": {"os": "linux", "architecture": "arm64"}}],
    }).encode()


def internal_answer(request: Request) -> Reply:
    return json_reply({"errors": [{"code": "DENIED", "message": SECRET}], "token": SECRET}, status=401)


class Participant:
    """Starts stubs and names them the way a participant would, in one test."""

    def __init__(self, stack: ExitStack, names: FakeNames, site: object) -> None:
        self.stack, self.names, self.site = stack, names, site

    def serve(self, answer: Callable[[Request], Reply], host: str = "127.0.0.1", port: int = 0) -> StubServer:
        return self.stack.enter_context(StubServer(answer, host, port))

    def registry(self, answer: Callable[[Request], Reply], *addresses: list[str]) -> tuple[StubServer, str]:
        """A stub registry under the participant's name, listed by the operator; returns it and its host."""
        stub = self.serve(answer)
        host = f"{NAME}:{stub.port}"
        self.names.add(NAME, *(addresses or (["127.0.0.1"],)))
        self.site.TOONBENCH_PRIVATE_REGISTRIES = (host,)  # type: ignore[attr-defined]
        self.site.TOONBENCH_INSECURE_REGISTRIES = (host,)  # type: ignore[attr-defined]
        return stub, host


@pytest.fixture
def participant(site: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Participant]:
    names = FakeNames(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", names)
    with ExitStack() as stack:
        yield Participant(stack, names, site)


@pytest.fixture
def submit(client, toonnet, alice) -> Callable[[str], object]:  # type: ignore[no-untyped-def]
    token = Token.objects.create(user=alice)

    def post(reference: str) -> object:
        return client.post("/api/submissions/", {"benchmark": "toonnet", "kind": "image", "image_ref": reference,
                                                  "method_name": "hostile"}, HTTP_AUTHORIZATION=f"Token {token.key}")
    return post


def refusal(response: object) -> str:
    """The one-line error of a 400 answer that stored nothing."""
    assert response.status_code == 400, response.content  # type: ignore[attr-defined]
    error = str(response.json()["error"])  # type: ignore[attr-defined]
    assert "\n" not in error and SECRET not in error
    assert not Submission.objects.exists()
    return error


def test_a_token_realm_on_an_internal_address_is_refused_and_never_requested(participant, submit) -> None:  # type: ignore[no-untyped-def]
    internal = participant.serve(internal_answer)
    realm = f'Bearer realm="http://{internal.address}/token",service="registry",scope="x"'
    _, host = participant.registry(lambda request: Reply(401, {"WWW-Authenticate": realm}))
    error = refusal(submit(f"{host}/alice/model:1"))
    assert error == (f"{host}/alice/model:1: the token service of the registry {host} is on a private or loopback "
                     "address, which is refused")
    assert internal.requests == []


def test_a_worker_checking_the_same_reference_is_refused_the_same_way(participant, site) -> None:  # type: ignore[no-untyped-def]
    internal = participant.serve(internal_answer)
    realm = f'Bearer realm="http://{internal.address}/token",service="registry"'
    _, host = participant.registry(lambda request: Reply(401, {"WWW-Authenticate": realm}))
    reference = parse_reference(f"{host}/alice/model@sha256:{'3' * 64}")
    with pytest.raises(ImageUnavailable, match="token service of the registry .* is on a private or loopback"):
        checked_size(reference, pull_settings())
    assert internal.requests == []


def test_a_manifest_redirect_to_an_internal_address_is_refused_and_never_requested(participant, submit) -> None:  # type: ignore[no-untyped-def]
    internal = participant.serve(internal_answer)
    _, host = participant.registry(lambda request: Reply(302, {"Location": f"http://{internal.address}/admin"}))
    error = refusal(submit(f"{host}/alice/model:1"))
    assert error == f"{host}/alice/model:1: the registry {host} redirected to a private or loopback address, which is refused"
    assert internal.requests == []


def test_a_name_that_rebinds_to_an_internal_address_is_connected_to_at_its_checked_address_only(  # type: ignore[no-untyped-def]
    participant, submit, site, monkeypatch
) -> None:
    body = image_manifest()
    stub = participant.serve(lambda request: Reply(200, {"Content-Type": OCI_MANIFEST}, body))
    internal = participant.serve(internal_answer, host="127.0.0.2", port=stub.port)
    routes = FakeRoutes(urllib3.util.connection.create_connection)
    routes.routes[PUBLIC] = ("127.0.0.1", stub.port)  # the internet: the public address reaches the stub
    monkeypatch.setattr(urllib3.util.connection, "create_connection", routes)
    participant.names.add(NAME, [PUBLIC], ["127.0.0.2"])  # public when checked, internal when asked again
    host = f"{NAME}:{stub.port}"
    site.TOONBENCH_INSECURE_REGISTRIES = (host,)  # plain HTTP, but not listed as private
    response = submit(f"{host}/alice/model:1")
    assert response.status_code == 201, response.content
    assert Submission.objects.get().resolved_ref == f"{host}/alice/model@{digest_of(body)}"
    assert routes.targets == [PUBLIC] and participant.names.lookups[NAME] == 1
    assert internal.requests == [] and len(stub.requests) == 1


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::1", "2002:c0a8:101::1",
                                     "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2001:0:4136:e378::1", "fd00::1",
                                     "fe80::1", "224.0.0.1", "100.64.0.1", f"{PUBLIC} 10.0.0.1"])
def test_names_resolving_to_any_form_of_a_private_address_are_refused(participant, submit, address) -> None:  # type: ignore[no-untyped-def]
    participant.names.add(NAME, address.split())
    error = refusal(submit(f"{NAME}/alice/model:1"))
    assert error.startswith(f"{NAME}/alice/model:1 names a registry on a private or loopback address, which "
                            "submissions may not use; push it to the platform registry")


def test_a_name_that_does_not_resolve_is_refused(participant, submit) -> None:  # type: ignore[no-untyped-def]
    participant.names.add(NAME, [])
    error = refusal(submit(f"{NAME}/alice/model:1"))
    assert error == (f"{NAME}/alice/model:1: the registry {NAME} is unreachable (its name does not resolve); "
                     "check the reference's host")


def test_a_digest_header_that_lies_about_the_manifest_is_refused(participant, submit) -> None:  # type: ignore[no-untyped-def]
    body = image_manifest()
    lie = digest_of(image_manifest("9"))
    _, host = participant.registry(lambda request: Reply(200, {"Content-Type": OCI_MANIFEST,
                                                               "Docker-Content-Digest": lie}, body))
    error = refusal(submit(f"{host}/alice/model:1"))
    assert error == (f"{host}/alice/model:1: the registry's Docker-Content-Digest header does not match the manifest "
                     f"it sent (whose digest is {digest_of(body)})")


def test_an_index_is_pinned_by_the_hash_of_its_body_and_its_child_is_checked(participant, submit) -> None:  # type: ignore[no-untyped-def]
    child, other_child = image_manifest(), image_manifest("9")
    index = image_index(child)
    served = {"1": index, digest_of(child): child}

    def answer(request: Request) -> Reply:
        key = request.path.rsplit("/", 1)[1]
        body = served[key]
        return Reply(200, {"Content-Type": OCI_INDEX if body is index else OCI_MANIFEST,
                           "Docker-Content-Digest": digest_of(body)}, body)

    stub, host = participant.registry(answer)
    response = submit(f"{host}/alice/model:1")
    assert response.status_code == 201, response.content
    assert Submission.objects.get().resolved_ref == f"{host}/alice/model@{digest_of(index)}"
    assert [request.path for request in stub.requests] == ["/v2/alice/model/manifests/1",
                                                           f"/v2/alice/model/manifests/{digest_of(child)}"]
    Submission.objects.all().delete()

    served[digest_of(child)] = other_child  # the child asked for by its digest comes back as another body
    error = refusal(submit(f"{host}/alice/model:1"))
    assert error == (f"{host}/alice/model:1: the manifest the registry sent for {digest_of(child)} has another "
                     f"digest ({digest_of(other_child)})")


def receive_buffer_bytes() -> int:
    """The most the kernel may hold for the client before it reads (TCP receive autotuning's ceiling)."""
    return int(Path("/proc/sys/net/ipv4/tcp_rmem").read_text().split()[2])


def test_a_64_mb_manifest_is_refused_after_reading_at_most_the_cap(participant, submit) -> None:  # type: ignore[no-untyped-def]
    def endless(request: Request) -> Reply:
        return Reply(200, {"Content-Type": OCI_MANIFEST}, stream=(b"{" * CHUNK_BYTES for _ in range(1024)))

    stub, host = participant.registry(endless)
    error = refusal(submit(f"{host}/alice/model:1"))
    assert error == f"{host}/alice/model:1: the manifest from {host} is larger than 4 MB"
    # What left the stub: what the client read (at most the cap and one chunk) plus what the two sockets
    # buffer (the kernel doubles SO_SNDBUF).
    buffers = receive_buffer_bytes() + 2 * SEND_BUFFER_BYTES
    assert stub.sent_body_bytes <= MAX_MANIFEST_BYTES + CHUNK_BYTES + buffers < 64 << 20


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "status line and headers"])
def test_a_registry_trickling_its_answer_is_cut_at_the_deadline(participant, submit, site, headers_too) -> None:  # type: ignore[no-untyped-def]
    site.TOONBENCH_REGISTRY_TIMEOUT_S = 2
    body = image_manifest()
    _, host = participant.registry(lambda request: Reply(200, {"Content-Type": OCI_MANIFEST}, body, trickle_s=0.2,
                                                         trickle_headers=headers_too))
    error = refusal(submit(f"{host}/alice/model:1"))
    assert error == f"{host}/alice/model:1: the registry {host} did not answer within the 2 s allowed for resolving a reference"


@pytest.mark.parametrize(("token_body", "content_type"), [
    (b"<html>welcome</html>", "text/html"),
    (b'{"expires_in": 300}', "application/json"),
    (b'{"token": "abc\\r\\nX-Injected: 1"}', "application/json"),
    (b'["token"]', "application/json"),
], ids=["text", "json without a token", "token unfit for a header", "json list"])
def test_a_token_service_answering_200_without_a_usable_token_is_a_refusal(  # type: ignore[no-untyped-def]
    participant, submit, token_body, content_type
) -> None:
    host_box: list[str] = []

    def answer(request: Request) -> Reply:
        if request.path.startswith("/token"):
            return Reply(200, {"Content-Type": content_type}, token_body)
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="http://{host_box[0]}/token",service="registry"'})

    _, host = participant.registry(answer)
    host_box.append(host)
    error = refusal(submit(f"{host}/alice/model:1"))
    assert error == f"{host}/alice/model:1: the token service of the registry {host} answered without a usable token"


@pytest.mark.parametrize(("status", "said"), [(500, "answered HTTP 500"), (418, "answered HTTP 418"),
                                             (401, "refused access (HTTP 401)"), (403, "refused access (HTTP 403)")])
def test_a_registrys_error_text_never_reaches_the_message(participant, submit, status, said) -> None:  # type: ignore[no-untyped-def]
    _, host = participant.registry(lambda request: json_reply({"errors": [{"code": "X", "message": SECRET}]}, status))
    assert refusal(submit(f"{host}/alice/model:1")) == f"{host}/alice/model:1: the registry {host} {said}"


def test_failed_attempts_count_and_past_the_rate_the_site_answers_429(participant, submit, site) -> None:  # type: ignore[no-untyped-def]
    site.TOONBENCH_IMAGE_PIN_FAILURES = 3
    stub, host = participant.registry(lambda request: Reply(500))
    for _ in range(3):
        refusal(submit(f"{host}/alice/model:1"))
    response = submit(f"{host}/alice/model:1")
    assert response.status_code == 429, response.content
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "3 of your image references failed to resolve within 60 minutes" in response.json()["error"]
    assert len(stub.requests) == 3  # the refused attempt never reached the registry


def test_past_the_rate_the_submit_page_answers_429_with_retry_after(participant, client, toonnet, alice, site) -> None:  # type: ignore[no-untyped-def]
    site.TOONBENCH_IMAGE_PIN_FAILURES = 2
    stub, host = participant.registry(lambda request: Reply(500))
    client.force_login(alice)
    form = {"benchmark": "toonnet", "kind": "image", "method_name": "hostile", "image_ref": f"{host}/alice/model:1"}
    assert [client.post("/submit/", form).status_code for _ in range(2)] == [400, 400]
    response = client.post("/submit/", form)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "2 of your image references failed to resolve within 60 minutes" in html.unescape(response.content.decode())
    assert len(stub.requests) == 2 and not Submission.objects.exists()
