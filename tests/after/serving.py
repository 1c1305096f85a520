"""The unsubscribe server (`serve-unsubscribe`) in its own process, as the serving and the
preference page tests use it."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

from civic_contacts.deliver.tokens import make_token
from tests.conftest import free_port

SERVER_SECRET = "server-secret-for-tests-41c2-8f3d6a1b"
ONE_CLICK = b"List-Unsubscribe=One-Click"


class Server:
    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process, self.port = process, port

    def post(
        self, token: str, body: bytes = ONE_CLICK, timeout: float = 20
    ) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(
                "POST",
                f"/unsubscribe?token={token}",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def raw(self, data: bytes, timeout: float = 10) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            chunks = []
            try:
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            except (TimeoutError, ConnectionResetError):
                pass
            return b"".join(chunks)

    def stop(self) -> str:
        self.process.terminate()
        try:
            _out, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _out, err = self.process.communicate()
        return err.decode("utf-8", "replace")


def suppressed(demo) -> list[str]:
    import json

    return [r["email"] for r in json.loads(demo("suppress", "list", "--json").stdout)]


def token(address: str) -> str:
    return make_token(SERVER_SECRET.encode(), address)


def start_server(db_url: str) -> Iterator[Server]:
    """`civic-contacts serve-unsubscribe` on the demo registry, in its own process."""
    port = free_port()
    env = {
        **os.environ,
        "CIVIC_CONTACTS_DB": db_url,
        "CIVIC_CONTACTS_UNSUBSCRIBE_SECRET": SERVER_SECRET,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "civic_contacts", "serve-unsubscribe", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("the server did not start") from None
            time.sleep(0.1)
    running = Server(process, port)
    yield running
    if running.process.poll() is None:
        running.stop()
