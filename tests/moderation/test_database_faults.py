"""The gate, the consoles and the health check when PostgreSQL's network freezes, breaks or comes back.

PostgreSQL sits behind a cuttable proxy (tests/db_proxy.py) that the tests freeze, reset or make
refuse; the gate is asked through the ASGI application as production serves it, the consoles
through their WebSocket. These tests need PostgreSQL: they skip on a SQLite run (CI runs the suite
on PostgreSQL too, where they run).
"""

from __future__ import annotations

import asyncio
import json
import threading
from urllib.parse import urlencode

from django.db import connection, connections, transaction
from django.test import Client, RequestFactory

import pytest
from channels.db import database_sync_to_async

from console import consumers
from console.asgi import application
from console.views.health import healthz
from moderation import cut_threads, events
from moderation.gate import asgi, rules
from moderation.models import GateDecision, ModerationAction, Stream, StreamKey
from tests.conftest import NODE_SECRET
from tests.console.communicator import WebsocketCommunicator
from tests.db_proxy import CuttableProxy, route_database_through
from tests.media import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

FORM = "application/x-www-form-urlencoded"
BUDGET = 1.0  # LIVEWARD_GATE_ANSWER_SECONDS in these tests
GUARD = 20.0  # a test fails, rather than hangs, when something waits on the database for good
DENIED = (403, 503)  # nginx-rtmp ends or refuses a session on any answer but 2xx


@pytest.fixture
def proxy(settings, nginx_node):
    """PostgreSQL behind a cuttable proxy for every connection opened from now on, but this thread's.

    One gate thread and one console thread, so that "the next call" is the one on the thread whose
    connection the fault hit.
    """
    if connection.vendor != "postgresql":
        pytest.skip("database fault tests need PostgreSQL (CI runs them; set DATABASE_URL)")
    settings.LIVEWARD_GATE_THREADS = 1
    settings.LIVEWARD_CONSOLE_THREADS = 1
    settings.LIVEWARD_GATE_ANSWER_SECONDS = BUDGET
    connection.ensure_connection()  # the test's own connection stays direct: assertions never hang
    _restart_pools()
    host, port = connection.settings_dict["HOST"], connection.settings_dict["PORT"]
    cuttable = CuttableProxy((host if host and not host.startswith("/") else "127.0.0.1", int(port or 5432)))
    undo = route_database_through(cuttable)
    yield cuttable
    cuttable.refuse(False)
    cuttable.resume()
    _restart_pools()
    events.release_database()
    undo()
    cuttable.close()


def _restart_pools() -> None:
    # Their threads start again with the settings above and connect afresh (through the proxy).
    asgi.shutdown()
    consumers.shutdown()
    cut_threads.shutdown()


async def answer(hook: str, key: str, client_id: str = "31") -> tuple[int, bytes]:
    """Ask the gate through the ASGI application as nginx-rtmp does; return (status, body)."""
    call = {"on_publish": "publish", "on_update": "update_publish", "on_publish_done": "publish_done"}[hook]
    form = {"app": "live", "name": key, "addr": "203.0.113.5", "clientid": client_id, "call": call, "type": "live"}
    body = urlencode(form).encode()
    path = f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/{hook}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", FORM.encode()), (b"content-length", b"%d" % len(body))],
        "client": ("203.0.113.5", 40000),
        "server": ("127.0.0.1", 8000),
    }
    inbox = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive():
        if inbox:
            return inbox.pop(0)
        await asyncio.Event().wait()  # the node stays connected until it has its answer

    async def send(message):
        sent.append(message)

    try:
        await asyncio.wait_for(application(scope, receive, send), GUARD)
    except TimeoutError:
        pytest.fail(f"the gate did not answer {hook} within {GUARD:g}s", pytrace=False)
    start = next(message for message in sent if message["type"] == "http.response.start")
    return start["status"], b"".join(message.get("body", b"") for message in sent if message["type"] != start["type"])


def ask(hook: str, key: str, client_id: str = "31") -> tuple[int, bytes]:
    return asyncio.run(answer(hook, key, client_id))


def in_a_new_thread(function):
    """Run ``function`` in a thread of its own (a new connection, as a page request under ASGI gets)."""
    result: list = []

    def run() -> None:
        try:
            result.append(function())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(GUARD)
    if thread.is_alive():
        pytest.fail(f"still waiting on the database after {GUARD:g}s", pytrace=False)
    return result[0]


def live_streams_of(key: StreamKey) -> list[Stream]:
    return list(Stream.objects.live().filter(key=key))


@pytest.fixture
def second_key(publisher, entertainment):
    from moderation import actions

    return actions.issue_stream_key(publisher, category=entertainment, default_title="第二路")


@pytest.fixture
def third_key(publisher, entertainment):
    from moderation import actions

    return actions.issue_stream_key(publisher, category=entertainment, default_title="第三路")


# --- timeouts on every connection (both databases) ----------------------------------------------


def session_timeouts() -> dict[str, str]:
    """The statement and lock timeouts of this thread's connection, as the database reports them."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA busy_timeout")
            return {"busy_timeout": str(cursor.fetchone()[0])}
        cursor.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
        statement, lock = cursor.fetchone()
        return {"statement_timeout": statement, "lock_timeout": lock}


def test_every_connection_has_the_configured_timeouts():
    expected = {"busy_timeout": "10000"} if connection.vendor == "sqlite" else {}
    expected = expected or {"statement_timeout": "30s", "lock_timeout": "10s"}
    assert in_a_new_thread(session_timeouts) == expected


def test_gate_threads_bound_statements_and_lock_waits_to_half_the_answer_budget(settings):
    settings.LIVEWARD_GATE_ANSWER_SECONDS = 1.5
    asgi.shutdown()  # its threads connect afresh
    try:
        bounded = asyncio.run(asgi._threads.run(session_timeouts))
    finally:
        asgi.shutdown()
    half = {"busy_timeout": "750"} if connection.vendor == "sqlite" else {}
    assert bounded == (half or {"statement_timeout": "750ms", "lock_timeout": "750ms"})


# --- the gate ---------------------------------------------------------------------------------


def test_a_frozen_database_gets_a_publish_denied_within_the_budget_and_no_stream_live(
    proxy, stream_key, second_key, third_key
):
    assert ask("on_publish", stream_key.issued_key)[0] == 200  # the gate thread's connection is up
    proxy.pause()
    status, body = ask("on_publish", second_key.issued_key, client_id="32")
    assert status == 503, body  # denied by the budget while the database says nothing
    # A running session's on_update is kept on air through the outage's first seconds.
    assert ask("on_update", stream_key.issued_key)[0] == 200
    proxy.resume()
    # The next publish waits behind the stalled decision on the one gate thread, then is allowed.
    assert ask("on_publish", third_key.issued_key, client_id="33")[0] == 200
    assert live_streams_of(second_key) == []
    assert len(live_streams_of(stream_key)) == 1


def test_a_commit_held_past_the_budget_leaves_no_live_stream(proxy, stream_key, second_key, third_key):
    assert ask("on_publish", stream_key.issued_key)[0] == 200
    # An allowed decision's one write (the stream and its decision, outside a transaction) is its commit.
    proxy.pause_when_client_sends(b"EXECUTE liveward_gate_open_")
    status, _body = ask("on_publish", second_key.issued_key, client_id="32")
    assert proxy.paused.is_set(), "the decision should have reached its write"
    assert status == 503
    proxy.resume()  # the held write reaches PostgreSQL now: the row commits after the node was refused
    assert ask("on_publish", third_key.issued_key, client_id="33")[0] == 200
    assert live_streams_of(second_key) == []
    withdrawn = Stream.objects.get(key=second_key)
    assert withdrawn.end_reason == Stream.EndReason.GATE_DENIED
    decision = GateDecision.objects.get(stream_id=withdrawn.pk, allowed=False)
    assert decision.reason == GateDecision.Reason.GATE_ERROR and decision.detail.startswith("withdrawn")


def test_on_update_keeps_sessions_through_a_short_outage_and_denies_after_the_grace(
    proxy, settings, stream_key, second_key
):
    assert ask("on_publish", stream_key.issued_key)[0] == 200
    proxy.refuse(True)
    proxy.drop_connections()  # the database is down: connections reset, new ones refused
    assert ask("on_update", stream_key.issued_key)[0] == 200
    assert ask("on_publish", second_key.issued_key, client_id="32")[0] in DENIED  # new publishes fail closed
    rules.forget_cached_nodes()  # even the node's lookup fails now
    assert ask("on_update", stream_key.issued_key)[0] == 200
    settings.LIVEWARD_GATE_UPDATE_GRACE_SECONDS = 1
    wait_until(lambda: ask("on_update", stream_key.issued_key)[0] in DENIED, timeout=10, message="on_update to deny")
    proxy.refuse(False)
    assert ask("on_publish", second_key.issued_key, client_id="32")[0] == 200
    assert len(live_streams_of(second_key)) == 1


def test_gate_lock_waits_end_within_the_budget_and_free_the_thread(proxy, stream_key, second_key):
    assert ask("on_publish", second_key.issued_key, client_id="32")[0] == 200
    locked, release = threading.Event(), threading.Event()

    def hold_the_key_row() -> None:
        with transaction.atomic():
            StreamKey.objects.select_for_update().get(pk=stream_key.pk)
            locked.set()
            release.wait(GUARD)

    holder = threading.Thread(target=lambda: in_a_new_thread(hold_the_key_row), daemon=True)
    holder.start()
    try:
        assert locked.wait(GUARD)
        # The stream's row waits on the key's lock until the gate's own lock timeout: a deny
        # (gate_error, 403) from the decision itself, not the budget's 503.
        assert ask("on_publish", stream_key.issued_key)[0] == 403
        # The one gate thread is free again: its lock wait ended inside the budget.
        ask("on_publish_done", second_key.issued_key, client_id="32")
        assert ask("on_publish", second_key.issued_key, client_id="34")[0] == 200
    finally:
        release.set()
        holder.join(GUARD)
    assert live_streams_of(stream_key) == []


def test_a_session_end_is_never_answered_for_by_the_budget(proxy, stream_key, second_key, third_key):
    """An end queued while the database stalls still closes its stream once the database answers."""
    assert ask("on_publish", stream_key.issued_key)[0] == 200
    assert ask("on_publish", third_key.issued_key, client_id="33")[0] == 200
    proxy.pause()

    async def stalled_publish_and_ends():
        async def resume_later():
            await asyncio.sleep(BUDGET * 2)  # past the budget: a decision would have been answered 503
            proxy.resume()

        return await asyncio.gather(
            answer("on_publish", second_key.issued_key, client_id="32"),  # holds the one decision thread
            answer("on_publish_done", stream_key.issued_key),
            answer("on_publish_done", third_key.issued_key, client_id="33"),
            resume_later(),
        )

    publish, first_end, second_end, _ = asyncio.run(stalled_publish_and_ends())
    assert publish[0] == 503  # the publish decision still fails closed at the budget
    assert first_end[0] == 200 and second_end[0] == 200, (first_end, second_end)
    assert live_streams_of(stream_key) == [] and live_streams_of(third_key) == []
    assert live_streams_of(second_key) == []


# --- the health check and the consoles ---------------------------------------------------------


def test_healthz_answers_503_while_the_database_is_frozen(proxy):
    proxy.pause()
    response = in_a_new_thread(lambda: healthz(RequestFactory().get("/healthz")))
    assert response.status_code == 503
    assert json.loads(response.content) == {"ok": False, "database": False}


def test_pages_and_the_api_answer_503_with_retry_after_not_500_while_the_database_is_down(proxy, patroller):
    client = Client(raise_request_exception=False)
    client.force_login(patroller)  # this thread's direct connection: the session is stored
    proxy.refuse(True)
    proxy.drop_connections()
    page = in_a_new_thread(lambda: client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    assert "数据库暂时无法连接" in page.content.decode()
    api = in_a_new_thread(lambda: client.get("/api/v1/streams/live/"))
    assert api.status_code == 503
    assert json.loads(api.content)["error"]["code"] == "unavailable"
    # Back up: the same page answers normally.
    proxy.refuse(False)
    assert in_a_new_thread(lambda: client.get("/")).status_code == 200


def console_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)  # no request cycle: this thread's direct connection stays open
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def receive_type(ws: WebsocketCommunicator, kind: str) -> dict:
    while True:
        frame = json.loads(await ws.receive_from(timeout=GUARD))
        if frame["type"] == kind:
            return frame


async def test_after_the_database_restarts_the_first_callback_action_and_page_succeed(
    proxy, patroller, stream_key, second_key
):
    assert (await answer("on_publish", stream_key.issued_key))[0] == 200
    stream = await database_sync_to_async(Stream.objects.live().get)(key=stream_key)
    cookie = await database_sync_to_async(console_cookie)(patroller)
    ws = WebsocketCommunicator(
        application,
        "/ws/console/",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000"), (b"cookie", cookie)],
    )
    connected, _code = await ws.connect(timeout=GUARD)
    assert connected
    await receive_type(ws, "snapshot")  # the console thread's connection is up
    # The database goes down: every open connection is reset; the console gets a clear error.
    proxy.refuse(True)
    proxy.drop_connections()
    await ws.send_json_to({"type": "action", "kind": "mark_patrolled", "stream": stream.pk, "request_id": "down-1"})
    error = await receive_type(ws, "error")
    assert error["code"] == "unavailable" and error["request_id"] == "down-1"
    # It comes back: the first callback, the first action and the first page all succeed.
    proxy.refuse(False)
    assert (await answer("on_publish", second_key.issued_key, client_id="32"))[0] == 200
    await ws.send_json_to({"type": "action", "kind": "mark_patrolled", "stream": stream.pk, "request_id": "up-1"})
    ack = await receive_type(ws, "ack")
    assert ack["request_id"] == "up-1" and not ack["replayed"]
    assert await database_sync_to_async(ModerationAction.objects.filter(request_id="up-1").exists)()
    response = await asyncio.to_thread(in_a_new_thread, lambda: healthz(RequestFactory().get("/healthz")))
    assert response.status_code == 200
    await ws.disconnect()
