"""The HTTP server under waitress: idle-connection floods (issue 9, fault 3) and oversized requests (fault 6)."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests


def raw_request(port: int, head: bytes, body: bytes = b"", timeout: float = 10) -> tuple[int, dict, bytes]:
    """Send a request on a raw socket (the body may be refused half-way) and parse whatever answer comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        try:
            for start in range(0, len(body), 65536):
                sock.sendall(body[start : start + 65536])
        except OSError:
            pass  # the server answered and closed before reading everything: that is allowed
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:
            pass
    head_part, _, payload = data.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        decoded, rest = b"", payload
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if not size:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2 :]
        payload = decoded
    return status, headers, payload


def assert_json_413(status: int, headers: dict, body: bytes) -> None:
    assert status == 413, (status, body[:200])
    assert headers["content-type"].startswith("application/json"), (headers, body[:200])
    parsed = json.loads(body)
    assert parsed["error"] == "body_too_large" and parsed["message"]
    assert set(parsed) <= {"error", "message"}


@pytest.fixture
def server(start_server):
    return start_server("sqlite", with_doubles=False)


@pytest.mark.parametrize("size", [100 * 1024, 2 * 1024 * 1024, 12 * 1024 * 1024])
def test_every_oversized_body_is_the_json_413(server, size):
    body = b'{"token": "' + b"A" * size + b'"}'
    head = (
        f"POST /api/cert/redeem-token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    assert_json_413(*raw_request(server.port, head, body))


def test_an_oversized_chunked_body_is_the_json_413(server):
    chunk = b"A" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(40)) + b"0\r\n\r\n"
    head = (
        b"POST /api/cert/redeem-token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    assert_json_413(*raw_request(server.port, head, body))


def test_the_servers_own_errors_are_json_too(server):
    head = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n"
    status, headers, body = raw_request(server.port, head)
    assert status in (400, 431) and headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]
    assert requests.get(server.url + "/api/health", timeout=5).status_code == 200


def test_idle_connections_do_not_lock_out_other_clients(start_server):
    server = start_server("sqlite", with_doubles=False)
    idle = []
    try:
        for _ in range(250):  # waitress' default connection_limit is 100
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        half_sent = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        half_sent.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # a slow client, never finished
        idle.append(half_sent)
        time.sleep(0.5)
        started = time.monotonic()
        answer = requests.get(server.url + "/api/health", timeout=5)
        assert answer.status_code == 200 and time.monotonic() - started < 3
    finally:
        for sock in idle:
            sock.close()


def test_idle_connections_are_closed_after_the_channel_timeout(start_server):
    server = start_server("sqlite", with_doubles=False, serve_args=["--channel-timeout", "2"])
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\n")  # headers never finished
        started = time.monotonic()
        try:
            data = sock.recv(1024)  # a TimeoutError here (15 s) fails the test
        except ConnectionResetError:
            data = b""
        # Closed by the server, silently, long before waitress' default of 120 s.
        assert data == b"" and time.monotonic() - started < 10
