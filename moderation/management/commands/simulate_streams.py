"""Run a stand-in nginx-rtmp node that publishes N streams to the gate, without video.

Standing in for a machine-review vendor as well, it keeps a machine-review flag on a few of its live
streams (``--review-flags``, through the same action the review service's API calls), so the demo
wall shows flagged cards.

The node's name, secret and control port come from var/simulator-node.json (written by seed_demo)
unless given. Ctrl-C or SIGTERM ends every session with on_publish_done, so the console ends clean.
"""

from __future__ import annotations

import json
import random
import signal
import threading
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from moderation import actions
from moderation.comment_feed import CommentFeed
from moderation.management.commands.seed_demo import demo_stream_keys
from moderation.models import Stream, StreamKey, hash_stream_key
from moderation.simulator import Simulator

REVIEW_FLAG_SECONDS = 30.0
REVIEW_LABELS = ("疑似低俗内容", "疑似引流广告", "疑似未成年人出镜", "疑似危险动作")


def _delay_range(value: str) -> tuple[float, float]:
    low, _, high = value.partition("-")
    try:
        low_f = float(low)
        high_f = float(high) if high else low_f
    except ValueError:
        raise ValueError(value) from None
    if low_f < 0 or high_f < low_f:
        raise ValueError(value)
    return low_f, high_f


def _live_stream_ids() -> list[int]:
    """The live streams' ids, read on the feed's thread, whose connection is closed again at once."""
    try:
        return list(Stream.objects.live().values_list("pk", flat=True)[:500])
    finally:
        connections.close_all()


class Command(BaseCommand):
    help = "Simulate an nginx-rtmp node publishing N live streams to the gate (no video), with drop and stat."

    simulator: Simulator | None = None

    def add_arguments(self, parser) -> None:
        parser.add_argument("--node", help="node name (default: from var/simulator-node.json)")
        parser.add_argument("--secret", help="node callback secret (default: from var/simulator-node.json)")
        parser.add_argument("--control-port", type=int, help="port of the control/stat server (0: any free port)")
        parser.add_argument("--gate-url", default="http://127.0.0.1:8000", help="base URL of the console")
        parser.add_argument("--streams", type=int, default=24, help="how many streams to keep live")
        parser.add_argument("--keys", help="comma-separated stream keys (default: active keys in the database)")
        parser.add_argument("--churn", type=float, default=0.0, help="seconds between a stream ending and another")
        parser.add_argument("--update-interval", type=float, default=30.0, help="seconds between on_update rounds")
        parser.add_argument("--duration", type=float, help="stop after this many seconds (default: run until stopped)")
        parser.add_argument(
            "--republish-delay",
            type=_delay_range,
            default=(20.0, 60.0),
            help="seconds (MIN-MAX) before a dropped or denied key publishes again (default 20-60)",
        )
        parser.add_argument("--gate-wait", type=float, default=60.0, help="seconds to wait for the gate to come up")
        parser.add_argument(
            "--review-flags", type=int, default=3, help="how many live streams carry a machine-review flag (0: none)"
        )
        parser.add_argument(
            "--comments-per-second",
            type=int,
            default=5,
            help="demo comments posted each second on the live streams (0: none; needs seed_demo's platform token)",
        )

    def handle(self, *args, **options) -> None:
        config = self._config(options)
        keys = self._keys(options["keys"])
        connections.close_all()  # the simulator only talks HTTP from here on
        if not keys:
            raise CommandError("no stream keys to publish (run seed_demo, or pass --keys)")
        if options["streams"] < 0 or options["update_interval"] <= 0 or options["churn"] < 0:
            raise CommandError("--streams and --churn must be >= 0, --update-interval > 0")
        self._log_lock = threading.Lock()
        self.simulator = Simulator(
            node=config["node"],
            secret=config["secret"],
            gate_url=options["gate_url"],
            keys=keys,
            streams=options["streams"],
            control_port=config["control_port"],
            churn=options["churn"],
            update_interval=options["update_interval"],
            republish_delay=options["republish_delay"],
            gate_wait=options["gate_wait"],
            log=self._log,
        )
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda *_: self.simulator.stop())
        self._log(
            f"node {config['node']}: {min(options['streams'], len(keys))} of {len(keys)} keys to {options['gate_url']}"
        )
        if options["review_flags"] > 0:
            threading.Thread(
                target=self._review_flags, args=(config["node"], options["review_flags"]), daemon=True
            ).start()
        feed = self._comment_feed(options)
        try:
            self.simulator.run(duration=options["duration"])
        finally:
            if feed is not None:
                feed.stop()
            for signum, handler in previous.items():  # called in-process (tests), leave signals as found
                signal.signal(signum, handler)

    def _comment_feed(self, options) -> CommentFeed | None:
        """Start the demo comment traffic on a thread, if asked for and seed_demo left a platform token."""
        if options["comments_per_second"] <= 0:
            return None
        try:
            token = (settings.VAR_DIR / "demo-platform-token").read_text().strip()
        except OSError:
            self._log("no var/demo-platform-token (run seed_demo): no demo comments")
            return None
        feed = CommentFeed(
            base_url=options["gate_url"],
            token=token,
            per_second=options["comments_per_second"],
            live_streams=_live_stream_ids,
            log=self._log,
        )
        threading.Thread(target=feed.run, name="comment-feed", daemon=True).start()
        self._log(f"posting {options['comments_per_second']} demo comments a second")
        return feed

    def _config(self, options) -> dict:
        path = settings.VAR_DIR / "simulator-node.json"
        stored: dict = {}
        if not (options["node"] and options["secret"] and options["control_port"] is not None):
            try:
                stored = json.loads(path.read_text())
            except FileNotFoundError:
                raise CommandError(
                    f"{path} not found: run seed_demo, or pass --node, --secret and --control-port"
                ) from None
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {path}: {exc}") from exc
        port = options["control_port"]
        config = {
            "node": options["node"] or stored.get("node"),
            "secret": options["secret"] or stored.get("secret"),
            "control_port": port if port is not None else stored.get("control_port"),
        }
        if not config["node"] or not config["secret"] or not isinstance(config["control_port"], int):
            raise CommandError(f"node, secret and control_port are needed (from options or {path})")
        return config

    def _keys(self, given: str | None) -> list[tuple[str, str]]:
        """Return (key, title) pairs: the keys given, or the demo's active ones; titles from the database.

        The database keeps only the keys' hashes, so the names come from the caller or from the
        demo (seed_demo issues them by a rule it shares).
        """
        names = [k.strip() for k in given.split(",") if k.strip()] if given else demo_stream_keys()
        by_hash = {hash_stream_key(name): name for name in names}
        known = StreamKey.objects.filter(key_hash__in=list(by_hash)).values_list("key_hash", "default_title", "status")
        titles = {by_hash[key_hash]: title for key_hash, title, _status in known}
        if given:
            return [(name, titles.get(name, "")) for name in names]
        active = {by_hash[key_hash] for key_hash, _title, status in known if status == StreamKey.Status.ACTIVE}
        return [(name, titles[name]) for name in names if name in active]

    def _review_flags(self, node: str, count: int) -> None:
        """Every half minute, flag live streams of this node until ``count`` carry a machine-review flag."""
        while not self.simulator.stopped.wait(REVIEW_FLAG_SECONDS):
            try:
                self.flag_round(node, count)
            except Exception as exc:  # a demo nicety: never stop the node over it
                self._log(f"review: could not flag streams: {exc}")
            finally:
                connections.close_all()

    def flag_round(self, node: str, count: int) -> int:
        """Flag live streams of ``node`` until ``count`` carry a machine-review flag; return how many were flagged."""
        live = Stream.objects.live().filter(node__name=node)
        missing = max(count - live.exclude(review_flag="").count(), 0)
        flagged = 0
        for stream in live.filter(review_flag="").order_by("?")[:missing]:
            label = random.choice(REVIEW_LABELS)
            actions.flag_stream_for_review(stream, label=label, score=round(random.uniform(0.55, 0.95), 2))
            self._log(f"review: flagged stream {stream.pk} «{stream.title}» {label}")
            flagged += 1
        return flagged

    def _log(self, message: str) -> None:
        with self._log_lock:
            self.stdout.write(f"{datetime.now():%H:%M:%S} simulator {message}")
            self.stdout.flush()
