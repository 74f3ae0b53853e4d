"""Real local servers for the notifier's tests, on loopback, stopped by their context managers:
a fake Telegram Bot API (http.server) and an SMTP server with STARTTLS (aiosmtpd, a self-signed
certificate made by `cryptography`). Both record what arrives and can be told to fail the next N tries."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class FakeTelegram:
    """POST /bot<token>/sendMessage: records {"chat_id", "text", ...}; `fail(n, status)` answers the next n
    requests with `status` (429 carries retry_after 0, as Telegram's flood control does with its own value)."""

    def __init__(self, token: str) -> None:
        self.token, self.received, self.requests = token, [], 0
        self._failures: list[int] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with owner._lock:
                    owner.requests += 1
                    status = owner._failures.pop(0) if owner._failures else None
                if self.path != f"/bot{owner.token}/sendMessage":
                    status, reply = 404, {"ok": False, "error_code": 404, "description": "Not Found"}
                elif status == 429:
                    reply = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 0",
                             "parameters": {"retry_after": 0}}
                elif status is not None:
                    reply = {"ok": False, "error_code": status, "description": "Internal Server Error"}
                else:
                    status, payload = 200, json.loads(body)
                    with owner._lock:
                        owner.received.append(payload)
                    reply = {"ok": True, "result": {"message_id": len(owner.received)}}
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, count: int, status: int) -> None:
        with self._lock:
            self._failures += [status] * count

    def __enter__(self) -> FakeTelegram:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files); the certificate is the client's CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class SmtpServer:
    """aiosmtpd requiring STARTTLS before MAIL; records each message (with whether it came over TLS);
    `fail(n)` answers the next n DATA commands 451 (try again later)."""

    def __init__(self, directory: Path) -> None:
        self.cert_file, key_file = self_signed(directory)
        self.received: list[tuple[EmailMessage, bool]] = []
        self._failures = 0
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, key_file)
        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
                if owner._failures:
                    owner._failures -= 1
                    return "451 Requested action aborted: try again later"
                message = message_from_bytes(envelope.content, policy=policy.default)
                owner.received.append((message, session.ssl is not None))
                return "250 OK"

        with socket.socket() as probe:  # aiosmtpd's start() connects to its port to check it: it needs a real one
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, tls_context=context,
                                     require_starttls=True, ready_timeout=10)

    def fail(self, count: int) -> None:
        self._failures += count

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
