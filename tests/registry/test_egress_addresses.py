"""The guard's address classifier, value by value; its redirect rules and TLS against stubs on loopback."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from evaluator.egress import (
    MAX_REDIRECTS,
    AddressRefused,
    Deadline,
    Egress,
    EgressError,
    Unreachable,
    is_public_address,
)
from stub_servers import Reply, Request, StubServer

TLS_NAME = "registry.participant.test"


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True),
    ("2606:4700:4700::1111", True),
    ("::ffff:8.8.8.8", True),  # IPv4-mapped: judged by its IPv4 part
    ("64:ff9b::808:808", True),  # NAT64 of a public address (DNS64 networks)
    ("2002:808:808::1", True),  # 6to4 of a public address
    ("127.0.0.1", False),
    ("10.1.2.3", False),
    ("172.16.0.1", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),  # link-local (cloud metadata)
    ("100.64.0.1", False),  # carrier-grade NAT
    ("0.0.0.0", False),
    ("224.0.0.1", False),  # multicast, which ipaddress counts as global
    ("240.0.0.1", False),
    ("255.255.255.255", False),
    ("::", False),
    ("::1", False),
    ("::ffff:127.0.0.1", False),
    ("::ffff:10.0.0.1", False),
    ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
    ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1, which ipaddress counts as global
    ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
    ("64:ff9b:1::808:808", False),  # local-use NAT64
    ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1, which ipaddress counts as global
    ("2002:c0a8:101::1", False),  # 6to4 of 192.168.1.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
    ("fc00::1", False),
    ("fd12:3456::1", False),  # ULA
    ("fe80::1%eth0", False),  # link-local with a zone
    ("ff02::1", False),  # multicast
])
def test_only_plainly_public_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_every_redirect_is_checked_and_the_chain_is_bounded() -> None:
    def answer(request: Request) -> Reply:
        hop = int(request.path.strip("/") or 0)
        return Reply(302, {"Location": f"/{hop + 1}"})

    with StubServer(answer) as stub, Deadline(10) as deadline:
        allowed = Egress(may_reach_private=lambda host: host == stub.address)
        with pytest.raises(EgressError, match=f"^redirected more than {MAX_REDIRECTS} times$"):
            allowed.get(f"http://{stub.address}/", deadline, max_bytes=1024)
        assert len(stub.requests) == MAX_REDIRECTS + 1
        with pytest.raises(AddressRefused, match="^is on a private or loopback address$"):
            Egress().get(f"http://{stub.address}/", deadline, max_bytes=1024)
        assert len(stub.requests) == MAX_REDIRECTS + 1


def test_credentials_are_not_carried_to_another_host() -> None:
    with StubServer(lambda request: Reply(200, body=b"ok")) as other:
        with StubServer(lambda request: Reply(302, {"Location": f"http://{other.address}/x"})) as first:
            listed = {first.address, other.address}
            with Deadline(10) as deadline:
                answer = Egress(may_reach_private=listed.__contains__).get(
                    f"http://{first.address}/", deadline, headers={"Authorization": "Bearer t"}, max_bytes=1024)
    assert (answer.status, answer.body) == (200, b"ok")
    assert first.requests[0].headers["Authorization"] == "Bearer t"
    assert "Authorization" not in other.requests[0].headers
    assert other.requests[0].headers["Host"] == other.address


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` (its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = folder / "registry.crt", folder / "registry.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_file, key_file


def test_https_connects_to_the_checked_address_and_checks_the_certificate_against_the_name(tmp_path: Path) -> None:
    certificate, key = self_signed(tmp_path, TLS_NAME)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    looked_up: list[str] = []

    def resolver(name: str, port: int) -> list[str]:
        looked_up.append(name)
        return ["127.0.0.1"]

    guard = Egress(may_reach_private=lambda host: True, resolver=resolver, ca_certs=str(certificate))
    with StubServer(lambda request: Reply(200, body=b"ok"), tls=context) as stub, Deadline(10) as deadline:
        answer = guard.get(f"https://{TLS_NAME}:{stub.port}/v2/", deadline, max_bytes=1024)
        assert (answer.status, answer.body) == (200, b"ok")
        assert stub.requests[0].headers["Host"] == f"{TLS_NAME}:{stub.port}"
        with pytest.raises(Unreachable, match="SSLError"):
            guard.get(f"https://other.participant.test:{stub.port}/v2/", deadline, max_bytes=1024)
    assert looked_up == [TLS_NAME, "other.participant.test"] and len(stub.requests) == 1
