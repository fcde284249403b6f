"""How long Ctrl-C on the run command takes to stop everything, against the floor of any Django process.

    .venv/bin/python bench/run_stop.py [--rounds 3] [--streams 24]

Each round boots ``manage.py run_console`` as bin/run does, on the embedded defaults (its own
var/ in a temporary directory: SQLite, embedded Redis; free ports), with the demo and the
stand-in node keeping STREAMS streams live, waits for /healthz and for the node's streams, lets it
run 5 s, sends SIGINT and times until the command has exited with every child gone. **Floor:** the
same SIGINT to ``manage.py shell`` waiting in ``signal.pause()``: the cost of a Django process
ending on this machine now. The last line is one JSON object: stop_s (each round), stop_max_s,
floor_s, loadavg_1m. **Goal: stop_max_s <= 3 on a quiet machine.**
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common  # noqa: E402

UNSET = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "LIVEWARD_PORT", "LIVEWARD_SIMULATOR_CONTROL_PORT"}


def environment(var_dir: str, streams: int) -> dict[str, str]:
    env = {key: value for key, value in common.django_env().items() if key not in UNSET}
    env.update(DJANGO_SETTINGS_MODULE="console.settings", LIVEWARD_VAR_DIR=var_dir, SERVE_STATIC="1")
    env["LIVEWARD_SIMULATED_STREAMS"] = str(streams)
    return env


def one_round(streams: int) -> float:
    var_dir = tempfile.mkdtemp(prefix="lw-stop-")
    port = common.free_port()
    log = open(Path(var_dir) / "run.log", "w")  # noqa: SIM115 - closed below
    run = subprocess.Popen(
        [common.PYTHON, "manage.py", "run_console", "--port", str(port)],
        cwd=common.BASE_DIR,
        env=environment(var_dir, streams),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        common.wait_for_http("127.0.0.1", port, "/healthz", process=run, timeout=300)
        node = json.loads((Path(var_dir) / "simulator-node.json").read_text())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{node['control_port']}/stat", timeout=5) as stat:
                    if stat.read().count(b"<stream>") >= min(streams, 20):
                        break
            except OSError:  # the node not listening yet
                pass
            time.sleep(0.5)
        time.sleep(5)
        started = time.monotonic()
        run.send_signal(signal.SIGINT)
        run.wait(timeout=120)
        return time.monotonic() - started
    finally:
        if run.poll() is None:
            run.kill()
        log.close()
        if os.environ.get("KEEP_LOG"):
            print(Path(var_dir, "run.log").read_text()[-12000:])
        shutil.rmtree(var_dir, ignore_errors=True)


# SIGINT as a terminal's Ctrl-C would deliver it (a shell's background job starts with it ignored).
FLOOR_CODE = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "print('ready', flush=True); signal.pause()"
)


def floor() -> float:
    env = environment(tempfile.mkdtemp(prefix="lw-floor-"), 0)
    env["SECRET_KEY"] = common.BENCH_SECRET_KEY
    waiting = subprocess.Popen(
        [common.PYTHON, "manage.py", "shell", "-c", FLOOR_CODE],
        cwd=common.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if waiting.stdout.readline().strip() != "ready":
        raise SystemExit(f"the floor's Django process did not start: {waiting.communicate()[1]}")
    started = time.monotonic()
    waiting.send_signal(signal.SIGINT)
    waiting.wait(timeout=60)
    shutil.rmtree(env["LIVEWARD_VAR_DIR"], ignore_errors=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--streams", type=int, default=24)
    options = parser.parse_args()
    stops = []
    for number in range(options.rounds):
        stops.append(one_round(options.streams))
        common.say(f"round {number + 1}: stopped in {stops[-1]:.2f} s")
    floor_s = floor()
    common.say(f"floor: a Django process ends in {floor_s:.2f} s")
    figures = {
        "stop_s": [round(value, 2) for value in stops],
        "stop_max_s": round(max(stops), 2),
        "floor_s": round(floor_s, 2),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
