"""The stand-in nginx-rtmp node against a live gate: publish, update, drop, stat, shutdown."""

from __future__ import annotations

import io
import socket
import threading
import time
import xml.etree.ElementTree as ET
from urllib.request import urlopen

from django.core.management import call_command

import pytest

from moderation import actions
from moderation.management.commands import simulate_streams
from moderation.models import GateDecision, MediaServer, Stream, hash_stream_key
from tests.conftest import NODE_SECRET, make_publisher

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {condition}")


@pytest.fixture
def keys(agreement, entertainment):
    made = []
    for n in range(1, 5):
        publisher = make_publisher(f"acct-{n}", f"主播{n}")
        made.append(
            actions.issue_stream_key(publisher, category=entertainment, default_title=f"直播{n}", key=f"sim-key-{n}")
        )
    return made


@pytest.fixture
def control_port():
    return free_port()


@pytest.fixture
def sim_node(db, control_port):
    node, _secret = actions.register_media_server(
        "sim-test",
        kind=MediaServer.Kind.NGINX_RTMP,
        control_url=f"http://127.0.0.1:{control_port}/",
        secret=NODE_SECRET,
    )
    return node


class Running:
    """The command running in a thread, reachable through its Simulator."""

    def __init__(self, live_server, control_port: int, *args: str) -> None:
        self.command = simulate_streams.Command()
        self.out = io.StringIO()
        self.error: BaseException | None = None
        self.control = f"http://127.0.0.1:{control_port}"
        argv = [
            "--node", "sim-test", "--secret", NODE_SECRET, "--control-port", str(control_port),
            "--gate-url", live_server.url, "--duration", "60", "--republish-delay", "30-40", *args,
        ]  # fmt: skip
        self.thread = threading.Thread(target=self._run, args=(argv,), daemon=True)

    def _run(self, argv) -> None:
        try:
            call_command(self.command, *argv, stdout=self.out)
        except BaseException as exc:  # surfaced by stop()
            self.error = exc

    def __enter__(self) -> Running:
        self.thread.start()
        wait_for(lambda: self.command.simulator is not None and self.command.simulator.ready.is_set())
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        if self.command.simulator is not None:
            self.command.simulator.stop()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "simulator did not stop"
        if self.error is not None:
            raise self.error

    def get(self, path: str) -> tuple[int, str]:
        with urlopen(self.control + path, timeout=5) as response:
            return response.status, response.read().decode()


def live_keys(node) -> set[str]:
    return set(Stream.objects.live().filter(node=node).values_list("published_name", flat=True))


def stat_streams(xml: str) -> dict[str, str]:
    """Map stream name to its publishing client's id in an nginx-rtmp stat document."""
    root = ET.fromstring(xml)
    assert root.tag == "rtmp"
    app = root.find("server/application")
    assert app.findtext("name") == "live"
    found = {}
    for stream in app.findall("live/stream"):
        client = stream.find("client")
        assert client.find("publishing") is not None and client.find("active") is not None
        assert int(stream.findtext("time")) >= 0 and int(stream.findtext("bw_in")) > 0
        assert int(stream.findtext("nclients")) >= 1  # the publisher and the simulated audience
        found[stream.findtext("name")] = client.findtext("id")
    return found


def test_publishes_drops_reports_and_ends_clean(live_server, sim_node, keys, control_port):
    actions.revoke_stream_key(keys[3], actor=None)
    names = ",".join(k.issued_key for k in keys)
    with Running(live_server, control_port, "--streams", "10", "--keys", names) as sim:
        live = wait_for(lambda: live_keys(sim_node) if len(live_keys(sim_node)) == 3 else None)
        assert live == {"sim-key-1", "sim-key-2", "sim-key-3"}
        titles = dict(Stream.objects.live().values_list("published_name", "title"))
        assert titles["sim-key-1"] == "直播1"
        denied = GateDecision.objects.get(key_hash=hash_stream_key(keys[3].issued_key))
        assert not denied.allowed and denied.reason == GateDecision.Reason.KEY_REVOKED

        # As nginx-rtmp's control module does, a clientid narrows the drop to that connection.
        client_id = Stream.objects.live().get(key__key_hash=hash_stream_key("sim-key-2")).client_id
        assert sim.get(f"/control/drop/publisher?app=live&name=sim-key-2&clientid={client_id}0") == (200, "0")
        status, body = sim.get(f"/control/drop/publisher?app=live&name=sim-key-2&clientid={client_id}")
        assert (status, body) == (200, "1")
        dropped = wait_for(
            lambda: Stream.objects.filter(key__key_hash=hash_stream_key("sim-key-2"), ended_at__isnull=False).first()
        )
        assert dropped.end_reason == Stream.EndReason.UNPUBLISHED

        assert sim.get("/control/drop/publisher?app=live&name=sim-key-2") == (200, "0")
        assert sim.get("/control/drop/publisher?app=live&name=no-such-key") == (200, "0")

        status, xml = sim.get("/stat")
        assert status == 200
        streams = stat_streams(xml)
        client_ids = dict(Stream.objects.live().values_list("published_name", "client_id"))
        assert streams == client_ids
        assert set(streams) == {"sim-key-1", "sim-key-3"}
    assert not Stream.objects.live().exists()
    assert set(Stream.objects.values_list("end_reason", flat=True)) == {Stream.EndReason.UNPUBLISHED}
    assert "stopped" in sim.out.getvalue()


def test_update_denial_ends_the_session(live_server, sim_node, keys, control_port):
    names = ",".join(k.issued_key for k in keys[:2])
    with Running(live_server, control_port, "--keys", names, "--update-interval", "0.3") as sim:
        wait_for(lambda: len(live_keys(sim_node)) == 2)
        actions.revoke_stream_key(keys[0], actor=None)
        wait_for(lambda: live_keys(sim_node) == {"sim-key-2"})
        update = GateDecision.objects.filter(hook=GateDecision.Hook.UPDATE).get()
        assert update.reason == GateDecision.Reason.KEY_REVOKED
        # The gate closes the stream before it answers; the simulator logs the 403 just after.
        wait_for(lambda: "denied 403" in sim.out.getvalue())
        assert Stream.objects.get(key=keys[0]).end_reason == Stream.EndReason.GATE_DENIED


def test_keeps_to_the_stream_count_and_churns(live_server, sim_node, keys, control_port):
    names = ",".join(k.issued_key for k in keys)
    with Running(live_server, control_port, "--keys", names, "--streams", "2", "--churn", "0.3") as sim:
        wait_for(lambda: Stream.objects.filter(ended_at__isnull=False).count() >= 2)
        assert Stream.objects.live().count() <= 2
        wait_for(lambda: Stream.objects.live().count() == 2)
    assert Stream.objects.values("key").distinct().count() >= 3
    assert not Stream.objects.live().exists()
    assert "churn" in sim.out.getvalue()


def test_unknown_control_path_and_filter(live_server, sim_node, keys, control_port):
    from urllib.error import HTTPError

    with Running(live_server, control_port, "--keys", keys[0].issued_key) as sim:
        for path, code in [("/nothing", 404), ("/control/drop/everyone?app=live", 500)]:
            with pytest.raises(HTTPError) as caught:
                sim.get(path)
            assert caught.value.code == code
        assert sim.get("/control/drop/subscriber?app=live&name=sim-key-1") == (200, "0")
        assert sim.get("/control/drop/publisher?app=other&name=sim-key-1") == (200, "0")


def test_duration_ends_the_run(live_server, sim_node, keys, control_port):
    out = io.StringIO()
    call_command(
        "simulate_streams",
        "--node", "sim-test", "--secret", NODE_SECRET, "--control-port", str(control_port),
        "--gate-url", live_server.url, "--keys", keys[0].issued_key, "--duration", "1",
        stdout=out,
    )  # fmt: skip
    assert Stream.objects.count() == 1 and not Stream.objects.live().exists()


def test_gives_up_waiting_for_an_absent_gate(db, control_port):
    out = io.StringIO()
    call_command(
        "simulate_streams",
        "--node", "sim-test", "--secret", "x", "--control-port", str(control_port),
        "--gate-url", f"http://127.0.0.1:{free_port()}", "--keys", "k1", "--gate-wait", "0.6",
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "waiting for the gate" in text and "giving up" in text


def test_wrong_secret_is_denied_not_crashed(live_server, sim_node, keys, control_port):
    out = io.StringIO()
    call_command(
        "simulate_streams",
        "--node", "sim-test", "--secret", "wrong", "--control-port", str(control_port),
        "--gate-url", live_server.url, "--keys", keys[0].issued_key, "--duration", "1",
        stdout=out,
    )  # fmt: skip
    assert not Stream.objects.exists()
    assert "denied 403" in out.getvalue()


def test_reads_the_node_file_by_default(settings, tmp_path, db):
    settings.VAR_DIR = tmp_path
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="seed_demo"):
        call_command("simulate_streams", "--keys", "k1")
    (tmp_path / "simulator-node.json").write_text('{"node": "sim-1", "secret": "s", "control_port": 8081}')
    command = simulate_streams.Command()
    options = {"node": None, "secret": None, "control_port": None}
    assert command._config(options) == {"node": "sim-1", "secret": "s", "control_port": 8081}
