"""The server's own limits, on the uvicorn command line the run command starts, over real sockets.

Headers must arrive in time and stay small (console/http_protocol.py); a body must arrive in time,
and one over the anonymous limit is refused before it is read unless the request carries a valid
staff session or API token (console/body_limits.py). Ordinary requests, the API with a token and
WebSockets are unaffected.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

import pytest

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_REVIEW
from console.management.commands.run_console import server_command
from tests.browser import AsgiServer, _stop, _wait_until_healthy, database_url_for_tests, free_port

# transaction=True: the server must see the sessions and tokens the tests write. serialized_rollback:
# the flush after each test would otherwise leave the database unlike what later tests expect.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BODY_TIMEOUT = 2.0
HEADER_TIMEOUT = 2.0
ANONYMOUS_MAX_BODY = 4096
MAX_HEADER_BYTES = 8192
# Long enough that an answer before it is the server's doing, whatever the machine's load.
CLIENT_TIMEOUT = 20.0
SNAPSHOTS = "/api/v1/streams/999999/snapshots/"


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[AsgiServer]:
    tmp_path = tmp_path_factory.mktemp("limited-server")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or settings.SECRET_KEY,
        "REDIS_URL": os.environ["REDIS_URL"],
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
        "LIVEWARD_VAR_DIR": str(tmp_path / "var"),
        "LIVEWARD_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "LIVEWARD_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "LIVEWARD_ANONYMOUS_MAX_BODY": str(ANONYMOUS_MAX_BODY),
        "LIVEWARD_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "uvicorn.log"
    command = [*server_command(host="127.0.0.1", port=port, workers=1), "--log-level", "info"]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = AsgiServer(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        _stop(process)


def connect(server: AsgiServer) -> socket.socket:
    port = int(server.url.rsplit(":", 1)[1])
    connection = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)
    return connection


def head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


def read_response(connection: socket.socket) -> tuple[int, dict, bytes]:
    """Read one response: (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise AssertionError(f"the connection closed without an answer (got {data!r})")
        data += chunk
    header_block, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = header_block.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body[:length]


def read_answer(connection: socket.socket) -> tuple[int, dict, bytes, bool]:
    """Read one response; return (status, headers, body, whether the server then closed)."""
    return (*read_response(connection), closed_by_server(connection))


def closed_by_server(connection: socket.socket) -> bool:
    try:
        return connection.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def review_token() -> str:
    Group.objects.get_or_create(name=MACHINE_REVIEW)  # a transactional test may have flushed it
    _user, token = create_machine_client("review-service", kind=MACHINE_REVIEW, actor=None)
    return token


# --- bodies --------------------------------------------------------------------------------------


def test_an_anonymous_body_declared_too_large_is_refused_without_reading_it(server):
    with connect(server) as connection:
        # 100 MB announced, 20 bytes sent, the rest never: only an answer that does not wait
        # for the body can come back (one that waited would be the body deadline's 408).
        connection.sendall(head("POST", SNAPSHOTS, "Content-Type: application/json", "Content-Length: 104857600"))
        connection.sendall(b'{"image_base64": "AA')
        status, headers, body, closed = read_answer(connection)

    assert status == 413
    assert json.loads(body)["error"]["code"] == "too_large"
    assert headers["connection"] == "close"
    assert closed


def test_an_anonymous_chunked_body_is_cut_off_at_the_limit(server):
    with connect(server) as connection:
        connection.sendall(head("POST", SNAPSHOTS, "Content-Type: application/json", "Transfer-Encoding: chunked"))
        chunk = b"x" * 1024
        for _ in range(ANONYMOUS_MAX_BODY // len(chunk) + 1):
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, _headers, _body, closed = read_answer(connection)  # and never the final chunk

    assert status == 413
    assert closed


def test_an_api_token_may_send_a_body_over_the_anonymous_limit(server):
    token = review_token()
    payload = json.dumps({"image_base64": "A" * (8 * ANONYMOUS_MAX_BODY)}).encode()
    with connect(server) as connection:
        connection.sendall(
            head(
                "POST",
                SNAPSHOTS,
                f"Authorization: Token {token}",
                "Content-Type: application/json",
                f"Content-Length: {len(payload)}",
            )
            + payload
        )
        status, *_ = read_answer(connection)

    assert status == 404  # the view read it and found no such stream


def test_a_token_that_is_not_valid_counts_as_anonymous(server):
    payload = json.dumps({"image_base64": "A" * (8 * ANONYMOUS_MAX_BODY)}).encode()
    with connect(server) as connection:
        connection.sendall(
            head("POST", SNAPSHOTS, "Authorization: Token not-a-token", f"Content-Length: {len(payload)}") + payload
        )
        status, *_ = read_answer(connection)

    assert status == 413


def test_a_staff_session_may_send_a_body_over_the_anonymous_limit(server, patroller):
    browser = Client()
    browser.force_login(patroller)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    form = b"handover_note=" + b"n" * (2 * ANONYMOUS_MAX_BODY)
    with connect(server) as connection:
        connection.sendall(
            head(
                "POST",
                "/accounts/shifts/check-out",
                f"Cookie: {settings.SESSION_COOKIE_NAME}={session}",
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(form)}",
            )
            + form
        )
        status, _headers, body, _closed = read_answer(connection)

    assert status == 403  # Django read it: its CSRF check answers, not the body limit
    assert b"CSRF" in body


def test_an_authenticated_body_over_the_server_limit_is_refused_without_reading_it(server):
    token = review_token()
    with connect(server) as connection:
        connection.sendall(head("POST", SNAPSHOTS, f"Authorization: Token {token}", "Content-Length: 104857600"))
        connection.sendall(b"{")
        status, _headers, body, closed = read_answer(connection)

    assert status == 413
    assert str(settings.LIVEWARD_MAX_BODY).encode() in body
    assert closed


def test_a_body_that_stops_arriving_gets_408(server):
    with connect(server) as connection:
        connection.sendall(head("POST", "/accounts/login/", "Content-Length: 100") + b"username=a")
        status, _headers, body, closed = read_answer(connection)

    assert status == 408
    assert json.loads(body)["error"]["code"] == "body_timeout"
    assert closed


def test_a_body_trickled_a_byte_at_a_time_gets_408_too(server):
    with connect(server) as connection:
        connection.sendall(head("POST", "/accounts/login/", "Content-Length: 1000"))
        connection.settimeout(0.25)
        answer = b""
        deadline = time.monotonic() + CLIENT_TIMEOUT
        while not answer and time.monotonic() < deadline:
            try:
                connection.sendall(b"a")
                answer = connection.recv(65536)
            except TimeoutError:
                continue

    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_gate_callback_whose_body_stops_arriving_gets_408(server):
    with connect(server) as connection:
        connection.sendall(head("POST", "/gate/nginx-rtmp/edge/secret/on_publish", "Content-Length: 200") + b"name=")
        status, *_ = read_answer(connection)

    assert status == 408


def test_the_server_limit_cannot_be_set_below_the_snapshot_apis_largest_push():
    from moderation.api.snapshots import MAX_BODY_BYTES
    from tests.console.test_settings import start

    assert settings.LIVEWARD_MAX_BODY >= MAX_BODY_BYTES
    result = start({"LIVEWARD_MAX_BODY": str(MAX_BODY_BYTES - 1)})
    assert result.returncode != 0
    assert "LIVEWARD_MAX_BODY" in result.stderr.splitlines()[-1]


# --- headers -------------------------------------------------------------------------------------


def test_headers_that_stop_arriving_get_408_and_the_connection_closes(server):
    with connect(server) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        status, _headers, body, closed = read_answer(connection)

    assert status == 408
    assert b"headers" in body
    assert closed


def test_a_connection_that_sends_nothing_is_closed(server):
    with connect(server) as connection:
        assert connection.recv(1024) == b""


def test_headers_larger_than_the_limit_get_431(server):
    with connect(server) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for number in range(MAX_HEADER_BYTES // 1000 + 2):
            connection.sendall(f"X-Padding-{number}: {'p' * 1000}\r\n".encode())
        status, _headers, _body, closed = read_answer(connection)

    assert status == 431
    assert closed


# --- ordinary traffic ----------------------------------------------------------------------------


def test_requests_on_a_kept_alive_connection_are_answered_as_usual(server):
    with connect(server) as connection:
        for _ in range(2):
            connection.sendall(head("GET", "/healthz"))
            status, _headers, body = read_response(connection)
            assert status == 200
            assert json.loads(body)["ok"] is True
        time.sleep(HEADER_TIMEOUT + 0.5)  # idle between requests is the keep-alive timeout's (5 s)
        connection.sendall(head("GET", "/healthz"))
        status, *_ = read_response(connection)

    assert status == 200


def test_an_anonymous_body_within_the_limit_reaches_django(server):
    form = b"username=nobody&password=wrong"
    with connect(server) as connection:
        connection.sendall(
            head(
                "POST",
                "/accounts/login/",
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(form)}",
            )
            + form
        )
        status, _headers, body, _ = read_answer(connection)

    assert status == 403
    assert b"CSRF" in body


def test_a_websocket_outlives_the_header_deadline(server, patroller):
    import websockets

    browser = Client()
    browser.force_login(patroller)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    ws_url = "ws" + server.url[len("http") :] + "/ws/console/"

    async def talk() -> dict:
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}", "Origin": server.url}
        async with websockets.connect(ws_url, additional_headers=headers) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), CLIENT_TIMEOUT))
            assert hello["type"] == "hello"
            await asyncio.sleep(HEADER_TIMEOUT + 1)
            await ws.send(json.dumps({"type": "ping", "id": 7}))
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), CLIENT_TIMEOUT))
                if frame["type"] == "pong":
                    return frame

    assert asyncio.run(talk())["type"] == "pong"


def test_the_public_report_form_alone_may_carry_its_images_anonymously(server):
    with connect(server) as connection:
        connection.sendall(
            head("POST", "/report/", "Content-Type: multipart/form-data; boundary=x", "Content-Length: 104857600")
        )
        status, _headers, body, closed = read_answer(connection)
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large" and closed
    declared = 2 * 1024 * 1024  # two images' worth: over the anonymous limit, within the form's
    with connect(server) as connection:
        connection.sendall(
            head("POST", "/report/", "Content-Type: multipart/form-data; boundary=x", f"Content-Length: {declared}")
        )
        connection.sendall(b"--x\r\n")  # and no more: the body deadline answers, not the size limit
        status, _headers, _body = read_response(connection)
    assert status == 408
    with connect(server) as connection:
        connection.sendall(
            head(
                "POST",
                "/accounts/login/",
                "Content-Type: multipart/form-data; boundary=x",
                f"Content-Length: {declared}",
            )
        )
        status, _headers, _body, _closed = read_answer(connection)
    assert status == 413
