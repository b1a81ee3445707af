"""TLS certificates for the hub and authentication keys for the agencies' nodes (the `cryptography` package).

Two kinds of credential, kept apart on purpose:

- **TLS** (the hub's side): a private certificate authority (`ca.crt`, `ca.key`) and the SuperLink's server
  certificate signed by it (`superlink.crt`, `superlink.key`), valid for 127.0.0.1, ::1, localhost and the
  host names the hub is reached by. Each agency receives `ca.crt` only, to check it talks to the real hub.
- **Node authentication** (each agency's side): one EC P-384 key pair per agency, in OpenSSH form as
  Flower expects (`nodes/<CODE>.key`, `nodes/<CODE>.pub`). The private key never leaves the agency; the
  hub registers the public key (`flwr supernode register`), and the SuperLink refuses any node whose
  signed requests do not match a registered key.

Everything lives under `$GRACE_HOME/federation/` (`federation_home()`); private keys are written 0600,
their folders 0700. Files that exist are reused, so credentials survive restarts; the server certificate
is re-issued (by the same authority) when a new host name is asked for.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from grace.config import grace_home
from grace.errors import GraceError

AGENCY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
CA_DAYS = 5 * 365
SERVER_DAYS = 397  # the browsers' ceiling for a server certificate; the hub re-issues it on start when due
LOCAL_NAMES = ("127.0.0.1", "::1", "localhost")


class CredentialError(GraceError):
    """A credential is missing, unreadable or not what it should be."""


def federation_home() -> Path:
    """`$GRACE_HOME/federation`: credentials, the Flower configuration, pid files, logs, models."""
    return grace_home() / "federation"


def check_agency_code(code: str) -> str:
    """An agency code safe in file names and Flower's node configuration (letters, digits, - and _)."""
    if not AGENCY_CODE.match(code or ""):
        raise CredentialError(
            f"agency code {code!r} is not valid: use 1-32 letters, digits, '-' or '_' (e.g. BE, NL-KLPD)"
        )
    return code


@dataclass(frozen=True)
class HubCredentials:
    """The hub's TLS files: the authority's certificate (handed to every agency), the server's pair."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


@dataclass(frozen=True)
class NodeKeys:
    """One agency's authentication key pair (OpenSSH encoding, EC P-384)."""

    agency: str
    private_key: Path
    public_key: Path


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _write(path: Path, data: bytes, private: bool) -> None:
    """Write `data` whole (temporary file, then rename); 0600 from the start for a private key."""
    tmp = path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(tmp, flags, 0o600 if private else 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    path.chmod(0o600 if private else 0o644)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise CredentialError(f"cannot read the private key {path}: {error}") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CredentialError(f"{path} is not an elliptic-curve private key")
    return key


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as error:
        raise CredentialError(f"cannot read the certificate {path}: {error}") from error


def _names(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(value) for value in san.get_values_for_type(x509.IPAddress)} | set(
        san.get_values_for_type(x509.DNSName)
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _issue_ca(folder: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "GRACE Trends federation"),
            x509.NameAttribute(NameOID.COMMON_NAME, "GRACE federation CA"),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )
    _write(folder / "ca.key", _pem_key(key), private=True)
    _write(folder / "ca.crt", cert.public_bytes(serialization.Encoding.PEM), private=False)


def _issue_server(folder: Path, names: list[str]) -> None:
    ca_key = _load_key(folder / "ca.key")
    ca_cert = _load_cert(folder / "ca.crt")
    key = ec.generate_private_key(ec.SECP384R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA384())
    )
    _write(folder / "superlink.key", _pem_key(key), private=True)
    _write(folder / "superlink.crt", cert.public_bytes(serialization.Encoding.PEM), private=False)


def hub_credentials(home: Path | None = None) -> HubCredentials:
    """Where the hub's TLS files are (whether or not they exist yet)."""
    folder = (home or federation_home()) / "pki"
    return HubCredentials(folder / "ca.crt", folder / "ca.key", folder / "superlink.crt", folder / "superlink.key")


def ensure_hub_credentials(hosts: list[str] | tuple[str, ...] = (), home: Path | None = None) -> HubCredentials:
    """The hub's authority and server certificate, created when missing.

    The server certificate names 127.0.0.1, ::1, localhost and every name in `hosts` (an IP address or a
    DNS name the agencies use to reach the hub); it is re-issued when a name is missing or it expires
    within 30 days.
    """
    creds = hub_credentials(home)
    folder = _private_dir(creds.ca_cert.parent)
    if not (creds.ca_cert.exists() and creds.ca_key.exists()):
        _issue_ca(folder)
    wanted = list(dict.fromkeys([*LOCAL_NAMES, *(host.strip() for host in hosts if host.strip())]))
    reissue = not (creds.server_cert.exists() and creds.server_key.exists())
    if not reissue:
        cert = _load_cert(creds.server_cert)
        due = cert.not_valid_after_utc - _now() < dt.timedelta(days=30)
        reissue = due or not set(wanted) <= _names(cert)
    if reissue:
        _issue_server(folder, wanted)
    return creds


def node_keys(agency: str, home: Path | None = None) -> NodeKeys:
    """Where an agency's key pair is (whether or not it exists yet)."""
    folder = (home or federation_home()) / "nodes"
    code = check_agency_code(agency)
    return NodeKeys(code, folder / f"{code}.key", folder / f"{code}.pub")


def ensure_node_keys(agency: str, home: Path | None = None) -> NodeKeys:
    """An agency's EC P-384 authentication key pair, created when missing (private key 0600)."""
    keys = node_keys(agency, home)
    if keys.private_key.exists() and keys.public_key.exists():
        return keys
    _private_dir(keys.private_key.parent)
    key = ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    _write(keys.private_key, private, private=True)
    _write(keys.public_key, public + f" grace-node-{keys.agency}\n".encode(), private=False)
    return keys
