"""Boot the README's run command on embedded defaults and check it works as a newcomer would see it.

Checks: the demo logins are printed; the console page answers; a demo staff member logs in (the
password, then the code bin/manage demo_totp prints); a WebSocket connects and says hello with
simulated live streams; a Celery task round-trips through the worker; Ctrl-C stops every process.
Run from the repository root with the venv's Python.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A var/ of its own, so the check always sees a first run (demo logins printed) and leaves no trace.
VAR_DIR = Path(tempfile.mkdtemp(prefix="liveward-smoke-"))
BASE = "http://127.0.0.1:8000"
DEADLINE_S = 240


def fail(message: str) -> None:
    print(f"SMOKE FAIL: {message}", flush=True)
    raise SystemExit(1)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_for(what: str, check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.5)
    fail(f"timed out waiting for {what}")


def main() -> None:
    if port_open(8000):
        fail("port 8000 is already in use")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env["LIVEWARD_SIMULATED_STREAMS"] = "12"
    env["LIVEWARD_VAR_DIR"] = str(VAR_DIR)
    run = subprocess.Popen(
        ["bash", "bin/run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []

    def pump() -> None:
        for line in run.stdout:
            output.append(line)
            print(f"  run| {line}", end="", flush=True)

    threading.Thread(target=pump, daemon=True).start()
    try:
        check_running(run, output)
    finally:
        stop(run)
    print("SMOKE OK", flush=True)


def log_in(printed: str, username: str) -> http.cookiejar.CookieJar:
    """Log in as a demo staff member with the password the run command printed; return the cookies."""
    match = re.search(rf"^\s+(?:run\|\s+)?{username}\s+(\S+)\s+\(", printed, re.M)
    if not match:
        fail(f"the run command did not print the demo {username}'s login")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{BASE}/accounts/login/", timeout=10).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": username, "password": match.group(1), "csrfmiddlewaretoken": csrf})
    request = urllib.request.Request(f"{BASE}/accounts/login/", data=form.encode(), headers={"Referer": BASE})
    second_step = opener.open(request, timeout=10)
    if "/accounts/two-factor/" not in second_step.geturl():
        fail(f"{username}'s password login did not ask for the second factor (landed on {second_step.geturl()})")
    # The demo's authenticator, as the run command's output tells a newcomer: bin/manage demo_totp <user>.
    code = subprocess.run(
        ["bash", "bin/manage", "demo_totp", username],
        cwd=ROOT,
        env=manage_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if code.returncode != 0 or not re.fullmatch(r"\d{6}", code.stdout.strip()):
        fail(f"bin/manage demo_totp {username} printed no code: {code.stdout} {code.stderr[-2000:]}")
    page = second_step.read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"code": code.stdout.strip(), "csrfmiddlewaretoken": csrf})
    request = urllib.request.Request(second_step.geturl(), data=form.encode(), headers={"Referer": BASE})
    home = opener.open(request, timeout=10)
    if home.geturl().rstrip("/") != BASE or "sessionid" not in {c.name for c in jar}:
        fail(f"{username}'s login did not reach the console (landed on {home.geturl()})")
    return jar


def manage_env() -> dict[str, str]:
    """The environment of the run command under test, for bin/manage and Django processes beside it."""
    return {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}},
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "LIVEWARD_VAR_DIR": str(VAR_DIR),
        "SECRET_KEY_FILE": str(VAR_DIR / "secret_key"),
        "LIVEWARD_BLACKLIST_HASH_KEY_FILE": str(VAR_DIR / "blacklist_hash_key"),
    }


def check_running(run: subprocess.Popen, output: list[str]) -> None:
    wait_for("the console to answer /healthz", lambda: urllib.request.urlopen(f"{BASE}/healthz", timeout=2), 600)
    text = "".join(output)
    jar = log_in(text, "patroller")
    print("· console page answers and the demo patroller logs in", flush=True)

    # The other demo roles find their work: the editor-in-chief's news queue has applications
    # waiting; the compliance admin's credit policy, appeals and blacklist pages answer.
    editor = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(log_in(text, "editor")))
    queue = editor.open(f"{BASE}/news/", timeout=10).read().decode()
    if "财经早报" not in queue:
        fail("the demo editor-in-chief's news queue shows no waiting application")
    admin = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(log_in(text, "compliance")))
    for path in ("/credit/", "/appeals/", "/blacklist/"):
        if admin.open(f"{BASE}{path}", timeout=10).status != 200:
            fail(f"the demo compliance admin cannot open {path}")
    print(
        "· the demo editor-in-chief sees the news queue; the compliance admin the credit and blacklist pages",
        flush=True,
    )

    # A WebSocket connects with that session and sees the simulated streams.
    session = next(c.value for c in jar if c.name == "sessionid")
    live = asyncio.run(websocket_hello(session))
    print(f"· WebSocket connected: hello with {live} live streams, one blocked and cut", flush=True)

    # A Celery task round-trips through the worker the run command started.
    token = uuid.uuid4().hex
    probe = (
        "import django, sys; django.setup(); from console.tasks import ping; "
        f"print(ping.delay('{token}').get(timeout=60)['token'])"
    )
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", probe],
        cwd=ROOT,
        env=manage_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.stdout.strip() != token:
        fail(f"Celery round trip failed: {result.stdout} {result.stderr[-2000:]}")
    print("· a Celery task round-tripped through the worker", flush=True)
    if run.poll() is not None:
        fail("the run command exited early")


async def next_frame(ws, frame_type: str) -> dict:
    """Read frames (deltas may come in between) until one of this type."""
    for _ in range(200):
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame.get("type") == frame_type:
            return frame
        if frame.get("type") == "error":
            fail(f"error frame while waiting for {frame_type}: {frame}")
    fail(f"no {frame_type} frame")


async def websocket_hello(session: str) -> int:
    """Connect as the demo patroller until the simulated streams are live; block one with one message."""
    import websockets

    headers = {"Cookie": f"sessionid={session}", "Origin": BASE}
    deadline = time.monotonic() + 90
    while True:
        async with websockets.connect("ws://127.0.0.1:8000/ws/console/", additional_headers=headers) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if hello.get("type") != "hello":
                fail(f"first frame was not hello: {hello}")
            snapshot = await next_frame(ws, "snapshot")
            await ws.send(json.dumps({"type": "ping", "id": 1}))
            await next_frame(ws, "pong")
            if snapshot["streams"]:
                # The demo's one-key block: the simulated node answers the drop like nginx-rtmp.
                stream = snapshot["streams"][0]
                block = {"type": "action", "request_id": "smoke-1", "kind": "block", "stream": stream["id"]}
                await ws.send(json.dumps({**block, "reason": "fraud"}))
                ack = await next_frame(ws, "ack")
                if ack["action"]["media_status"] not in {"confirmed", "gone"}:
                    fail(f"the simulated node did not confirm the cut: {ack}")
                print(f"· blocked «{stream['title']}»: {ack['timings']}", flush=True)
                return int(hello["live"])
        if time.monotonic() > deadline:
            fail("the simulated streams never showed up as live")
        await asyncio.sleep(2)


def stop(run: subprocess.Popen) -> None:
    if run.poll() is None:
        run.send_signal(signal.SIGINT)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
            fail("Ctrl-C did not stop the run command within 30 s")
    time.sleep(1)
    if port_open(8000):
        fail("something still listens on port 8000 after Ctrl-C")
    if (VAR_DIR / "redis.sock").exists():
        fail("the embedded Redis socket is still there after Ctrl-C")
    print("· Ctrl-C stopped every process", flush=True)


if __name__ == "__main__":
    sys.exit(main())
