"""A stand-in nginx-rtmp node for demos and load runs: callbacks to the gate, no video.

It speaks the two halves of nginx-rtmp that Liveward touches:

- the notify module: form-encoded POSTs of ``on_publish``, ``on_update`` and ``on_publish_done`` to
  the gate, with the fields nginx-rtmp sends (``call=publish`` …) and the publish URL's query args
  (``title``) after them. A non-2xx answer to ``on_publish`` denies the publish; to ``on_update``
  it ends the session, which then reports ``on_publish_done`` as nginx does.
- the control and stat modules on its own HTTP port: ``GET /control/drop/publisher?app=&name=&clientid=``
  answers the number of sessions dropped (``0`` when none) and then reports them done;
  ``GET /stat`` answers the stat XML (rtmp > server > application > live > stream > client), with
  each stream's audience moving as a real one does; ``GET /frames/live/<key>`` a picture of the
  stream (moderation/simulator_frames.py) for the console's snapshots.

A dropped or denied key is tried again after a while, so a demo keeps its streams and a key's
cooling-off after a block shows as denials. Only the standard library is used for HTTP.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qs, unquote, urlencode, urlsplit
from urllib.request import Request, urlopen
from xml.sax.saxutils import escape

from moderation.simulator_frames import FrameMaker

APP = "live"
FLASHVER = "FMLE/3.0 (compatible; FMSc/1.0)"
# After a failed callback (gate down, timeout) a key is tried again this soon.
ERROR_RETRY_SECONDS = 5.0
# on_publish_done calls in flight at once when the node stops.
SHUTDOWN_CALLS = 8


@dataclass
class Session:
    """One simulated publisher connection."""

    key: str
    title: str
    client_id: int
    addr: str = "127.0.0.1"
    started: float = field(default_factory=time.monotonic)
    bitrate: int = field(default_factory=lambda: random.randint(1_500_000, 4_000_000))
    # Viewers: a few streams draw crowds, most a handful (a heavy tail); each stat read moves them.
    viewers: int = field(default_factory=lambda: min(int(random.paretovariate(1.1) * 8), 200_000))

    def drift_viewers(self) -> int:
        """Move the audience a little, as a real one comes and goes; return the new count."""
        step = max(1, self.viewers // 20)
        self.viewers = max(0, min(self.viewers + random.randint(-step, step + 1), 200_000))
        return self.viewers

    @property
    def label(self) -> str:
        return f"{self.key[:6]}… #{self.client_id} «{self.title}»"


@dataclass(frozen=True)
class GateAnswer:
    status: int | None  # None: no HTTP answer (connection refused, timeout)
    body: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def short(key: str) -> str:
    """Show a stream key in logs without printing the secret."""
    return f"{key[:6]}…"


class Simulator:
    """The node: sessions, the gate client loop and the control/stat HTTP server."""

    def __init__(
        self,
        *,
        node: str,
        secret: str,
        gate_url: str,
        keys: list[tuple[str, str]],
        streams: int = 24,
        control_port: int = 8081,
        control_host: str = "127.0.0.1",
        churn: float = 0.0,
        update_interval: float = 30.0,
        republish_delay: tuple[float, float] = (20.0, 60.0),
        gate_wait: float = 60.0,
        log: Callable[[str], None] = print,
    ) -> None:
        self.node = node
        self.secret = secret
        self.gate_url = gate_url.rstrip("/")
        self.keys = list(dict.fromkeys(keys))
        self.streams = streams
        self.control_host = control_host
        self.control_port = control_port
        self.churn = churn
        self.update_interval = update_interval
        self.republish_delay = republish_delay
        self.gate_wait = gate_wait
        self.log = log
        self.lock = threading.Lock()
        self.frames = FrameMaker()
        self.sessions: dict[str, Session] = {}  # by key
        self.retry_at: dict[str, float] = {}  # key -> monotonic time of the next publish attempt
        self.stopped = threading.Event()
        self.ready = threading.Event()  # set once the first publish round is done
        self.started = time.monotonic()
        self.naccepted = 0
        self._client_ids = iter(range(random.randint(1, 50), 10**9))
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the run loop to end; it reports every live session done before returning."""
        self.stopped.set()

    def run(self, duration: float | None = None) -> None:
        """Serve the control port and keep the streams going until stopped or ``duration`` passes."""
        deadline = None if duration is None else time.monotonic() + duration
        self._start_control_server()
        try:
            if not self.wait_for_gate(deadline):
                return
            next_update = time.monotonic() + self.update_interval
            next_churn = time.monotonic() + self.churn if self.churn > 0 else None
            while not self.stopped.is_set() and (deadline is None or time.monotonic() < deadline):
                self.fill()
                self.ready.set()
                now = time.monotonic()
                if now >= next_update:
                    self.update_round()
                    next_update = time.monotonic() + self.update_interval
                if next_churn is not None and now >= next_churn:
                    self.churn_one()
                    next_churn = time.monotonic() + self.churn
                self.stopped.wait(0.2)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """End every live session with ``on_publish_done`` and close the control port."""
        with self.lock:
            ending = list(self.sessions.values())
            self.sessions.clear()
        # Together, as a node's sessions end when it stops: Ctrl-C on the run command waits for this.
        with ThreadPoolExecutor(max_workers=SHUTDOWN_CALLS, thread_name_prefix=f"{self.node}-done") as pool:
            for session in ending:
                pool.submit(self.publish_done, session, why="shutdown")
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.log(f"node {self.node} stopped ({len(ending)} sessions ended)")

    def wait_for_gate(self, deadline: float | None = None) -> bool:
        """Wait (with backoff) until the gate's port takes connections; False if it never does."""
        parts = urlsplit(self.gate_url)
        address = (parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80))
        give_up = time.monotonic() + self.gate_wait
        if deadline is not None:
            give_up = min(give_up, deadline)
        delay = 0.25
        logged = False
        while not self.stopped.is_set():
            try:
                socket.create_connection(address, timeout=2).close()
                if logged:
                    self.log(f"gate at {self.gate_url} is up")
                return True
            except OSError as exc:
                if time.monotonic() + delay > give_up:
                    self.log(f"gate at {self.gate_url} unreachable after {self.gate_wait:.0f}s ({exc}); giving up")
                    return False
                if not logged:
                    self.log(f"waiting for the gate at {self.gate_url} ({exc}); retrying up to {self.gate_wait:.0f}s")
                    logged = True
                self.stopped.wait(delay)
                delay = min(delay * 2, 5.0)
        return False

    # --- the gate client ------------------------------------------------------------------

    def callback(self, hook: str, form: dict[str, str]) -> GateAnswer:
        """POST one notify callback as nginx-rtmp does; never raises."""
        url = f"{self.gate_url}/gate/nginx-rtmp/{self.node}/{self.secret}/{hook}"
        request = Request(
            url,
            data=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "liveward-simulator"},
            method="POST",
        )
        try:
            with urlopen(request, timeout=10) as response:
                return GateAnswer(response.status, response.read(2000).decode("utf-8", "replace"))
        except HTTPError as exc:
            body = exc.read(2000).decode("utf-8", "replace") if exc.fp else ""
            return GateAnswer(exc.code, body)
        except (URLError, OSError, ValueError) as exc:
            return GateAnswer(None, str(getattr(exc, "reason", exc)))

    def form(self, session: Session, call: str) -> dict[str, str]:
        """The fields nginx-rtmp sends, in its order, then the publish URL's query args."""
        form = {
            "app": APP,
            "flashver": FLASHVER,
            "swfurl": "",
            "tcurl": f"rtmp://127.0.0.1/{APP}",
            "pageurl": "",
            "addr": session.addr,
            "clientid": str(session.client_id),
            "call": call,
            "name": session.key,
            "type": "live",
        }
        if call == "update_publish":
            elapsed = int(time.monotonic() - session.started)
            form.update(time=str(elapsed), timestamp=str(elapsed * 1000))
        if session.title:
            form["title"] = session.title
        return form

    def publish(self, key: str, title: str) -> bool:
        """Send ``on_publish`` for a new session of ``key``; keep it live on a 2xx answer."""
        session = Session(key=key, title=title, client_id=next(self._client_ids))
        with self.lock:
            self.naccepted += 1
        answer = self.callback("on_publish", self.form(session, "publish"))
        if answer.ok:
            with self.lock:
                if self.stopped.is_set():
                    keep = False
                else:
                    self.sessions[key] = session
                    keep = True
            if not keep:  # stopping meanwhile: report it done at once, as nginx would on exit
                self.publish_done(session, why="shutdown")
                return False
            self.log(f"publish {session.label}: allowed")
            return True
        if answer.status is None:
            self._retry_later(key, ERROR_RETRY_SECONDS)
            self.log(f"publish {session.label}: gate error ({answer.body}); retrying in {ERROR_RETRY_SECONDS:.0f}s")
        else:
            delay = self._retry_later(key)
            reason = answer.body.strip()[:120]
            self.log(f"publish {session.label}: denied {answer.status} {reason}; retry in {delay:.0f}s")
        return False

    def publish_done(self, session: Session, *, why: str) -> None:
        """Send ``on_publish_done`` for an ended session (a few tries; the gate may be busy)."""
        for attempt in range(3):
            answer = self.callback("on_publish_done", self.form(session, "publish_done"))
            if answer.ok:
                self.log(f"publish_done {session.label}: {why}")
                return
            if answer.status is not None and answer.status < 500:
                break
            if attempt < 2:
                time.sleep(0.5 * (attempt + 1))
        self.log(f"publish_done {session.label}: {why}; gate answered {answer.status or answer.body}")

    def fill(self) -> None:
        """Publish idle keys whose retry time has come until ``streams`` sessions are live."""
        now = time.monotonic()
        for key, title in self.keys:
            if self.stopped.is_set():
                return
            with self.lock:
                if len(self.sessions) >= self.streams:
                    return
                if key in self.sessions or self.retry_at.get(key, 0) > now:
                    continue
            self.publish(key, title)

    def update_round(self) -> None:
        """Send ``on_update`` for every live session; a non-2xx answer ends it."""
        with self.lock:
            live = list(self.sessions.values())
        for session in live:
            if self.stopped.is_set():
                return
            answer = self.callback("on_update", self.form(session, "update_publish"))
            if answer.ok:
                continue
            if answer.status is None:
                self.log(f"update {session.label}: gate error ({answer.body}); keeping the session")
                continue
            if self._end(session):
                delay = self._retry_later(session.key)
                self.log(f"update {session.label}: denied {answer.status} {answer.body.strip()[:120]}; ending")
                self.publish_done(session, why=f"ended after update denial; retry in {delay:.0f}s")

    def churn_one(self) -> None:
        """End one random live session; ``fill`` starts another key in its place."""
        with self.lock:
            if not self.sessions:
                return
            session = random.choice(list(self.sessions.values()))
        if self._end(session):
            delay = self._retry_later(session.key)
            self.publish_done(session, why=f"churn; back in {delay:.0f}s")

    def drop(self, *, app: str | None, name: str | None, client_id: str | None = None) -> list[Session]:
        """Remove the sessions matching app, name and client id (any, where absent), as the control module does."""
        with self.lock:
            if app and app != APP:
                return []
            dropped = [
                s
                for key, s in self.sessions.items()
                if (name is None or key == name) and (client_id is None or str(s.client_id) == client_id)
            ]
            for session in dropped:
                del self.sessions[session.key]
                self.retry_at[session.key] = time.monotonic() + random.uniform(*self.republish_delay)
        return dropped

    def _end(self, session: Session) -> bool:
        with self.lock:
            if self.sessions.get(session.key) is session:
                del self.sessions[session.key]
                return True
        return False

    def _retry_later(self, key: str, delay: float | None = None) -> float:
        delay = random.uniform(*self.republish_delay) if delay is None else delay
        with self.lock:
            self.retry_at[key] = time.monotonic() + delay
        return delay

    # --- the control and stat port --------------------------------------------------------

    def _start_control_server(self) -> None:
        simulator = self

        class Handler(ControlHandler):
            sim = simulator

        self._server = ThreadingHTTPServer((self.control_host, self.control_port), Handler)
        self._server.daemon_threads = True
        self.control_port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name=f"{self.node}-control", daemon=True).start()
        self.log(f"node {self.node}: control and stat on http://{self.control_host}:{self.control_port}/")

    def stat_xml(self) -> str:
        """Render the live sessions in the shape of nginx-rtmp's stat module."""
        now = time.monotonic()
        with self.lock:
            live = sorted(self.sessions.values(), key=lambda s: s.client_id)
            naccepted = self.naccepted
        total_in = sum(s.bitrate for s in live)
        lines = [
            '<?xml version="1.0" encoding="utf-8" ?>',
            "<rtmp>",
            "<nginx_version>1.24.0</nginx_version>",
            "<nginx_rtmp_version>1.1.4</nginx_rtmp_version>",
            "<compiler>liveward simulator</compiler>",
            f"<built>{time.strftime('%b %d %Y %H:%M:%S')}</built>",
            f"<pid>{os.getpid()}</pid>",
            f"<uptime>{int(now - self.started)}</uptime>",
            f"<naccepted>{naccepted}</naccepted>",
            f"<bw_in>{total_in}</bw_in>",
            f"<bytes_in>{sum(s.bitrate // 8 * int(now - s.started) for s in live)}</bytes_in>",
            "<bw_out>0</bw_out>",
            "<bytes_out>0</bytes_out>",
            "<server>",
            "<application>",
            f"<name>{APP}</name>",
            "<live>",
        ]
        for s in live:
            elapsed_ms = int((now - s.started) * 1000)
            lines += [
                "<stream>",
                f"<name>{escape(s.key)}</name>",
                f"<time>{elapsed_ms}</time>",
                f"<bw_in>{s.bitrate}</bw_in>",
                f"<bytes_in>{s.bitrate // 8 * elapsed_ms // 1000}</bytes_in>",
                "<bw_out>0</bw_out><bytes_out>0</bytes_out>",
                f"<bw_audio>128000</bw_audio><bw_video>{s.bitrate - 128000}</bw_video>",
                f"<client><id>{s.client_id}</id><address>{escape(s.addr)}</address><time>{elapsed_ms}</time>"
                f"<flashver>{escape(FLASHVER)}</flashver><dropped>0</dropped><avsync>0</avsync>"
                f"<timestamp>{elapsed_ms}</timestamp><publishing/><active/></client>",
                "<meta><video><width>1280</width><height>720</height><frame_rate>30</frame_rate>"
                "<codec>H264</codec><profile>High</profile><compat>0</compat><level>3.1</level></video>"
                "<audio><codec>AAC</codec><profile>LC</profile><channels>2</channels>"
                "<sample_rate>44100</sample_rate></audio></meta>",
                f"<nclients>{1 + s.drift_viewers()}</nclients>",
                "<publishing/>",
                "<active/>",
                "</stream>",
            ]
        lines += [
            f"<nclients>{sum(1 + s.viewers for s in live)}</nclients>",
            "</live>",
            "</application>",
            "</server>",
            "</rtmp>",
            "",
        ]
        return "\r\n".join(lines)


class ControlHandler(BaseHTTPRequestHandler):
    """``/control/drop/<publisher|client|subscriber>`` and ``/stat``, as nginx-rtmp answers them."""

    sim: Simulator
    server_version = "nginx"
    sys_version = ""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = parts.path.rstrip("/")
        if path == "/stat":
            self._answer(200, self.sim.stat_xml(), "text/xml")
        elif path.startswith("/control/drop/"):
            self._drop(path.rsplit("/", 1)[1], query)
        elif path.startswith(f"/frames/{APP}/"):
            self._frame(unquote(path.rsplit("/", 1)[1]))
        else:
            self._answer(404, "not found\n", "text/plain")

    def _drop(self, method: str, query: dict[str, str]) -> None:
        if method not in {"publisher", "client", "subscriber"}:
            self._answer(500, "", "text/plain")  # nginx-rtmp: "Undefined filter"
            return
        # The simulated sessions are all publishers: a subscriber drop finds none.
        dropped = (
            []
            if method == "subscriber"
            else self.sim.drop(app=query.get("app"), name=query.get("name"), client_id=query.get("clientid"))
        )
        self._answer(200, str(len(dropped)), "text/plain")
        for session in dropped:
            self.sim.log(f"drop {session.label}: dropped by control request")
            self.sim.publish_done(session, why="dropped")

    def _frame(self, key: str) -> None:
        """A picture of a live session (simulator_frames), for the console's frame grabber."""
        session = self.sim.sessions.get(key)
        image = self.sim.frames.frame(key, session.title) if session is not None else None
        if image is None:
            self._answer(404, "no such stream\n", "text/plain")
            return
        self._answer(200, image, "image/jpeg")

    def _answer(self, status: int, body: str | bytes, content_type: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def log_message(self, format: str, *args) -> None:  # one line per event is logged elsewhere
        pass
