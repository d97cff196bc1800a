"""The sandbox's local certificate authority, the server certificates it issues, and the TLS context they make."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import ssl
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from mock_wechat.trust import WECHAT_HOSTS

if TYPE_CHECKING:  # cryptography is imported where it is used: a sandbox that serves no TLS never pays for it
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

MUTUAL_TLS_HOSTS = frozenset({"api.mch.weixin.qq.com", "api2.mch.weixin.qq.com"})
"""Where WeChat asks for the merchant's certificate (`/secapi/…`): a tunnel to another host is not asked (a
browser asked for a certificate drops its first handshake and retries)."""
CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CA_YEARS = 10
LEAF_DAYS = 397
"""What browsers accept for a server certificate (they refuse longer ones even from a local root)."""
BACKDATE = timedelta(days=1)
"""Certificates start a day early: a client whose clock is a little behind still accepts them."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
JAVA_TRUSTSTORE_PASSWORD = "changeit"  # noqa: S105 - a public convention, guarding nothing secret
"""The password of `wechat-sandbox ca --java-truststore`: the JVM's own default (`cacerts`)."""


class CAError(Exception):
    """The local CA's files exist but cannot be used; the message says which file and what to do."""


def cache_dir() -> Path:
    """The user's cache directory for wechat-sandbox (the CA of `--in-memory` runs lives there, reused)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "wechat-sandbox"


def ca_dir(data_dir: Path | None) -> Path:
    """Where the CA is kept: the data dir, or (in memory) the user's cache directory."""
    return data_dir if data_dir is not None else cache_dir()


def _new_key() -> EllipticCurvePrivateKey:
    """P-256: every TLS client takes it, and it is made in a millisecond (an RSA key takes a hundred)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: EllipticCurvePrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    pkcs8, pem = serialization.PrivateFormat.PKCS8, serialization.Encoding.PEM
    return key.private_bytes(pem, pkcs8, serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def _new_ca(now: datetime) -> tuple[bytes, bytes]:
    """A CA certificate and key (PEM); its name carries a random tag, so no two machines' CAs look alike."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wechat-sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"wechat-sandbox local CA {secrets.token_hex(4)}"),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _pem_cert(cert), _pem_key(key)


def _write_file(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write a file (by default only its owner can read it) atomically: a reader never sees half of it."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _publish(path: Path, data: bytes) -> None:
    """Create `path` holding `data` (owner-only) unless it exists: the first of several writers wins whole."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


@dataclass(frozen=True)
class LocalCA:
    """The CA that signs the sandbox's server certificates: trust `certificate_path` and every name it serves
    (WeChat's hosts included) is trusted. Made once per directory and kept, so trusting it is a one-time step."""

    certificate_path: Path
    certificate_pem: bytes
    key_pem: bytes

    @classmethod
    def load_or_create(cls, directory: Path) -> LocalCA:
        """The CA kept in `directory`, made there first if missing (two processes racing agree on one)."""
        cert_path, key_path = directory / CA_FILE, directory / CA_KEY_FILE
        if not key_path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            cert, key = _new_ca(datetime.now(UTC))
            _publish(key_path, key + cert)  # the key file holds the pair: whoever links it first made the CA
        end = b"-----END PRIVATE KEY-----\n"
        try:
            key, found, cert = key_path.read_bytes().partition(end)
            if found and cert.strip() and (not cert_path.exists() or cert_path.read_bytes() != cert):
                _write_file(cert_path, cert, mode=0o644)
        except OSError as exc:
            raise CAError(f"cannot read the local CA in {directory}: {exc.strerror} ({exc.filename})") from None
        if not found or not cert.strip():
            raise CAError(
                f"the local CA in {directory} cannot be used: {CA_KEY_FILE} does not hold the CA's key and "
                f"certificate; delete {CA_FILE} and {CA_KEY_FILE} there to make a new one (and trust the new one "
                "where you trusted the old)"
            )
        key += end
        ca = cls(cert_path, cert, key)
        problem = ca.problem()
        if problem is not None:
            raise CAError(
                f"the local CA in {directory} cannot be used: {problem}; delete {CA_FILE} and {CA_KEY_FILE} there to "
                "make a new one (and trust the new one where you trusted the old)"
            )
        return ca

    def problem(self) -> str | None:
        """Why this CA cannot sign (unreadable, not a CA, expired, key and certificate apart), or None."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        try:
            cert = x509.load_pem_x509_certificate(self.certificate_pem)
        except ValueError:
            return f"{CA_FILE} is not a PEM certificate"
        try:
            key = serialization.load_pem_private_key(self.key_pem, None)
        except (ValueError, TypeError):
            return f"{CA_KEY_FILE} is not an unencrypted PEM private key"
        if key.public_key() != cert.public_key():
            return f"{CA_KEY_FILE} is not the key of {CA_FILE}"
        if cert.not_valid_after_utc < datetime.now(UTC) + timedelta(days=LEAF_DAYS):
            return f"{CA_FILE} expires on {cert.not_valid_after_utc:%Y-%m-%d}"
        return None

    def issue(self, names: Iterable[str]) -> tuple[bytes, bytes]:
        """A server certificate (PEM: it, then the CA) and its key for `names` (host names and IP addresses)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        ca_cert = x509.load_pem_x509_certificate(self.certificate_pem)
        ca_key = serialization.load_pem_private_key(self.key_pem, None)
        assert isinstance(ca_key, EllipticCurvePrivateKey)
        key = _new_key()
        now = datetime.now(UTC)
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wechat-sandbox")]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(min(now + timedelta(days=LEAF_DAYS), ca_cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(list(_general_names(names))), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        return _pem_cert(cert) + self.certificate_pem, _pem_key(key)

    def java_truststore(self, password: str = JAVA_TRUSTSTORE_PASSWORD) -> bytes:
        """A PKCS#12 truststore holding the CA as a trusted entry (Java ignores certificates without that mark)."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

        cert = x509.load_pem_x509_certificate(self.certificate_pem)
        entry = pkcs12.PKCS12Certificate(cert, b"wechat-sandbox")
        return pkcs12.serialize_java_truststore([entry], BestAvailableEncryption(password.encode()))


def _general_names(names: Iterable[str]) -> Iterable[x509.GeneralName]:
    from cryptography import x509

    seen: set[str] = set()
    for name in names:
        name = name.strip().lower().rstrip(".")
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            yield x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            yield x509.DNSName(name)


def server_names(configured: Iterable[str]) -> list[str]:
    """What the server certificate covers: loopback, WeChat's hosts, then the configured names."""
    return list(dict.fromkeys([*LOOPBACK_NAMES, *WECHAT_HOSTS, *(n.lower() for n in configured)]))


def _load_chain(context: ssl.SSLContext, chain: bytes, key: bytes) -> None:
    """`load_cert_chain` reads files only: through a private temporary directory, removed at once."""
    with tempfile.TemporaryDirectory(prefix="wechat-sandbox-tls-") as temp:
        cert_file, key_file = Path(temp) / "server.pem", Path(temp) / "server-key.pem"
        _write_file(cert_file, chain)
        _write_file(key_file, key)
        context.load_cert_chain(cert_file, key_file)


class ServerTLS:
    """The TLS side of one sandbox: its CA (made on first use) and the server context every TLS connection uses.

    Client certificates are asked for (but optional) where WeChat Pay is served: `/secapi/…` looks at what was
    presented (WeChat's mutual TLS), every other path ignores it. The merchants' certificates are trusted as they
    appear (checked at each handshake), and a handshake naming a host the certificate lacks gets one that has it,
    if the host is allowed.
    """

    def __init__(
        self,
        directory: Path,
        names: Callable[[], Iterable[str]],
        client_certificates: Callable[[], Iterable[str]],
        allowed: Callable[[str], bool],
    ) -> None:
        self.directory = directory
        self.url: str | None = None
        """Where the TLS listener listens, once one does (`https://HOST:PORT`)."""
        self.ports: set[int] = set()
        """The ports of the TLS listeners: a connection accepted on one is TLS from its first byte."""
        self._names = names
        self._client_certificates = client_certificates
        self._allowed = allowed
        self._ca: LocalCA | None = None
        self._context: ssl.SSLContext | None = None
        self._quiet: ssl.SSLContext | None = None
        self._chain: tuple[bytes, bytes] | None = None
        self._chain_names: list[str] = []
        self._covered: frozenset[str] = frozenset()
        self._extra: dict[str, ssl.SSLContext] = {}
        self._trusted: set[str] = set()

    def listen(self, port: int, host: str) -> str:
        """Mark `port` (a plain socket the sandbox's runner serves) as a TLS listener; its URL."""
        self.context()  # made now: a CA that cannot be used stops the start, not the first client
        self.ports.add(port)
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)  # noqa: S104
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        self.url = f"https://{shown}:{port}"
        return self.url

    @property
    def ca_certificate(self) -> Path | None:
        """The CA certificate's path if the CA exists (nothing is made here)."""
        path = self.directory / CA_FILE
        return path if self._ca is not None or path.exists() else None

    @property
    def ca(self) -> LocalCA:
        if self._ca is None:
            self._ca = LocalCA.load_or_create(self.directory)
        return self._ca

    def context(self, *, ask: bool = True) -> ssl.SSLContext:
        """The server context (made once; CAError when the CA's files are unusable). `ask`: request a client
        certificate (optional; WeChat's mutual TLS on `/secapi/…`). Browsers drop a handshake that asks and retry
        without, so a tunnel to a page's host does not ask; the TLS listener does (no host is known before)."""
        if self._context is None or self._quiet is None:
            names = server_names(self._names())
            self._context = self._make(names, ask=True)
            self._quiet = self._make(names, ask=False)
            self._covered = frozenset(names)
        return self._context if ask else self._quiet

    def _make(self, names: list[str], *, ask: bool) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])
        chain, key = self._chain if self._chain is not None and names == self._chain_names else self.ca.issue(names)
        self._chain, self._chain_names = (chain, key), names
        _load_chain(context, chain, key)
        if ask:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a merchant certificate is its own anchor
        context.sni_callback = self._on_hello
        for pem in self._trusted:
            _trust(context, pem)
        return context

    def _on_hello(self, sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        """Each ClientHello: trust new merchant certificates; a name the certificate lacks gets one that has it.
        (A switched connection keeps its first context's verify mode and uses the new context's trust store.)"""
        self._trust_merchants()
        if name is None or name.lower() in self._covered:
            return
        extra = self._extra.get(name.lower())
        if extra is None and self._allowed(name) and len(self._extra) < 64:
            extra = self._extra[name.lower()] = self._make(server_names([name]), ask=False)
        if extra is not None:
            sock.context = extra

    def _trust_merchants(self) -> None:
        """Trust the merchant certificates made since the last handshake (a client may present one at once)."""
        for pem in self._client_certificates():
            if pem not in self._trusted:
                self._trusted.add(pem)
                for each in (self._context, self._quiet, *self._extra.values()):
                    if each is not None:
                        _trust(each, pem)


def _trust(context: ssl.SSLContext, pem: str) -> None:
    with contextlib.suppress(ssl.SSLError):  # a configured certificate OpenSSL cannot read is simply not trusted
        context.load_verify_locations(cadata=pem)
