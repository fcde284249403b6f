"""The comment filter with 10,000 terms against a regular expression, and the batch ingest API end to end.

    .venv/bin/python bench/comments.py [--terms 10000] [--texts 20000] [--workers 2] [--concurrency 4]
                                       [--batch 500] [--duration 10] [--skip-api]

Part one, the filter alone on one core (a Django subprocess; CPU time of that process, best of three):
TERMS generated sensitive terms (two to four Chinese characters, some Latin contact handles) built
into the production automaton (moderation/sensitive_terms.py), and TEXTS generated chat lines of
2–60 characters with emoji, about 4 % containing a term, written plainly, with separators (微 信,
微-信), in traditional characters or full-width. ``filter_per_s`` is ``Matcher.match`` (normalise +
automaton) over all texts. **Floor:** a compiled regular-expression alternation of the same
normalised terms, longest first, ``findall`` on the same normalised texts (``regex_per_s``, the
normalising included, as the filter's). Both must find the same texts matching (``agree``).
``*_scan_per_s`` are the scans alone.

Part two, the ingest API on PostgreSQL: recreates the database (``--database-url``), migrates it,
seeds one live stream through the actions and imports the terms, starts uvicorn as the run command
does, and sends ``POST /api/v1/comments/`` with batches of BATCH comments (fresh ids each time) from
CONCURRENCY keep-alive callers. ``api_per_s`` counts comments stored per second, ``api_p99_ms`` is
the 99th percentile of one batch's answer.

Then the open loop (bench/open_loop.py): batches offered at OPEN_RATE comments a second (default
5,000: 10 batches of 500 a second, Poisson arrivals), each batch's answer timed from its scheduled
send (``open_p50_ms``, ``open_p99_ms``, ``open_errors``), then the same batches at the same rate to
/bench/floor (``open_floor_*``), and the open-loop client's own ceiling against a do-nothing server
(``open_client_ceiling_per_s``, in comments a second).

On a busy machine the API figures say more about the other load than about Liveward, so the run
also reads the CPU time uvicorn and PostgreSQL's backends spent per comment (psutil) and the rate two
idle cores would take at that cost (``two_core_estimate_per_s``, an estimate).

Last line: {"terms", "filter_per_s", "regex_per_s", "api_per_s", "api_p99_ms", "open_rate",
"open_p50_ms", "open_p99_ms", "open_errors", …, "loadavg"}.
Goal on the 2-core machine: filter_per_s ≥ 100,000 and above regex_per_s; api_per_s ≥ 5,000,
api_p99_ms ≤ 100.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common, open_loop  # noqa: E402

# Common characters of chat, and some that terms are made of.
CHAT = (
    "的一是不了人我在有他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "哈啊呀吧呢嘛哦嗯主播好厉害加油支持喜欢唱歌跳舞游戏今天晚上老铁双击六六六来了关注点赞礼物谢谢大家"
)
TERM_CHARS = "赌博彩票代开裸聊约炮色情枪支弹药毒品冰麻诈骗刷单返利兼职贷款套现微信扣群私网址外挂练辱骂傻逼垃圾"
CHAT = "".join(character for character in CHAT if character not in TERM_CHARS)
EMOJI = "😀😂🤣😍👍🙏🔥💯🎉❤️🌹😭😅🤔👏🙌"
SEPARATORS = [" ", "-", ".", "·", "*", "_", "|", "~", "\u200b"]


def make_terms(count: int, seed: int = 14) -> list[str]:
    """COUNT distinct terms: mostly 2–4 Chinese characters, some Latin handles (vx123, qq88)."""
    rng = random.Random(seed)
    terms: set[str] = set()
    while len(terms) < count:
        if rng.random() < 0.08:
            terms.add(rng.choice(["vx", "qq", "wx", "tg", "dy"]) + str(rng.randint(10, 99999)))
        else:
            length = rng.choice((2, 3, 3, 4, 4, 4))
            # Two-character terms from the rarer characters; longer ones mix in everyday characters,
            # as real lists do (加微信, 私聊我), so a scan cannot skip most positions by first character.
            pool = TERM_CHARS if length == 2 else TERM_CHARS + CHAT[:80]
            terms.add("".join(rng.choice(pool) for _ in range(length)))
    return sorted(terms)


def make_texts(terms: list[str], count: int, *, to_traditional, seed: int = 41) -> list[str]:
    """COUNT chat lines of 2–60 characters; about 4 % carry a term, disguised in one of several ways."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        length = min(60, max(2, int(rng.expovariate(1 / 14))))
        line = [rng.choice(TERM_CHARS if rng.random() < 0.05 else CHAT) for _ in range(length)]
        for _emoji in range(rng.randint(0, 2)):
            line.insert(rng.randrange(len(line) + 1), rng.choice(EMOJI))
        text = "".join(line)
        if rng.random() < 0.04:
            term = rng.choice(terms)
            style = rng.randrange(4)
            if style == 1:
                term = rng.choice(SEPARATORS).join(term)
            elif style == 2:
                term = to_traditional(term)
            elif style == 3:
                term = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in term)  # full-width
            cut = rng.randrange(len(text) + 1)
            text = (text[:cut] + term + text[cut:])[:80]
        texts.append(text)
    return texts


FILTER = r"""
import json, re, time
import opencc
from moderation import sensitive_terms
from bench.comments import make_terms, make_texts

count, text_count = int(sys.argv[1]), int(sys.argv[2])
terms = make_terms(count)
texts = make_texts(terms, text_count, to_traditional=opencc.OpenCC("s2t").convert)
rows = [(term, sensitive_terms.normalise(term), "other", "block") for term in terms]
started = time.perf_counter()
matcher = sensitive_terms.build_matcher(1, rows)
build_s = time.perf_counter() - started
normalised_terms = sorted({row[1] for row in rows}, key=len, reverse=True)
started = time.perf_counter()
pattern = re.compile("|".join(map(re.escape, normalised_terms)))
regex_build_s = time.perf_counter() - started

def best_of(rounds, function):
    # CPU time of this process: the figure is one core's work, whatever else the machine runs.
    best = None
    for _ in range(rounds):
        began = time.process_time()
        function()
        elapsed = time.process_time() - began
        best = elapsed if best is None else min(best, elapsed)
    return best

normalise = sensitive_terms.normalise
filter_s = best_of(3, lambda: [matcher.match(text) for text in texts])
regex_s = best_of(3, lambda: [pattern.findall(normalise(text)) for text in texts])
normalised = [normalise(text) for text in texts]
scan_s = best_of(3, lambda: [matcher.match_normalised(text) for text in normalised])
regex_scan_s = best_of(3, lambda: [pattern.findall(text) for text in normalised])
normalise_s = best_of(3, lambda: [normalise(text) for text in texts])
by_filter = [bool(matcher.match(text).hits) for text in texts]
by_regex = [bool(pattern.search(normalise(text))) for text in texts]
print(json.dumps({
    "terms": len(terms), "texts": len(texts), "matching_share": round(sum(by_filter) / len(texts), 4),
    "agree": by_filter == by_regex,
    "filter_per_s": round(len(texts) / filter_s), "regex_per_s": round(len(texts) / regex_s),
    "filter_scan_per_s": round(len(texts) / scan_s), "regex_scan_per_s": round(len(texts) / regex_scan_s),
    "normalise_per_s": round(len(texts) / normalise_s),
    "automaton_build_ms": round(build_s * 1000, 1), "regex_compile_ms": round(regex_build_s * 1000, 1),
    "mean_text_chars": round(sum(map(len, texts)) / len(texts), 1),
}))
"""

SEED = r"""
import json
from accounts.actions import create_machine_client, create_staff_user
from accounts.roles import MACHINE_PLATFORM, Role
from moderation import actions
from moderation.gate import rules
from moderation.models import MediaServer, Publisher
from bench.comments import make_terms

terms = int(sys.argv[1])
agreement = actions.publish_agreement("bench-1", title="Bench agreement")
category = actions.create_category("bench", name="Bench")
node, _secret = actions.register_media_server(
    "bench-node", kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/control", secret="bench-secret"
)
publisher = actions.register_publisher("bench-0", display_name="Bench", agreement_version=agreement.version)
publisher = actions.set_publisher_verification(publisher, verification=Publisher.Verification.VERIFIED, actor=None)
key = actions.issue_stream_key(publisher, category=category, key="benchkey0001")
request = rules.PublishRequest(node=node, key_name=key.issued_key, app="live", client_id="bench-1")
outcome = rules.decide_publish(request)
assert outcome.allowed, outcome
admin = create_staff_user("bench-admin", role=Role.COMPLIANCE_ADMIN, password="bench-password-1234")
actions.import_terms("\n".join(make_terms(terms)).encode(), actor=admin, default_category="other")
_user, token = create_machine_client("bench-platform", kind=MACHINE_PLATFORM, actor=None)
print(json.dumps({"stream": outcome.stream_id, "token": token}))
"""


def cpu_seconds(processes) -> float:
    """CPU time (user + system) used so far by these processes; gone ones count 0."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except Exception:  # psutil.NoSuchProcess and friends: the process ended
            continue
        total += times.user + times.system
    return total


def server_processes(server_pid: int, database: str) -> list:
    """The uvicorn processes (parent and workers) and the PostgreSQL backends serving DATABASE."""
    import psutil

    parent = psutil.Process(server_pid)
    backends = []
    for process in psutil.process_iter(["name", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if process.info["name"] == "postgres" and f" {database} " in f" {command} ":
            backends.append(process)
    return [parent, *parent.children(recursive=True)], backends


def batch_script(
    host: str, port: int, token: str, stream: int, batch: int, texts: list[str], sent: list[int],
    path: str = "/api/v1/comments/",
):  # fmt: skip
    """Each caller sends batches of fresh ids (a replayed id would be cheaper than a new comment)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Token {token}\r\nConnection: keep-alive\r\n"
    )

    def script(caller: int) -> Iterator[list[tuple[str, bytes]]]:
        for number in itertools.count():
            start = (caller * 7919 + number * batch) % len(texts)
            comments = [
                {
                    "stream": stream,
                    "id": f"b{caller}-{number}-{index}",
                    "viewer_id": f"v{(number * batch + index) % 5000}",
                    "viewer_phone_verified": index % 50 != 0,
                    "text": texts[(start + index) % len(texts)],
                }
                for index in range(batch)
            ]
            body = json.dumps({"comments": comments}, ensure_ascii=False).encode()
            sent[0] += 1
            yield [("batch", f"{head}Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body)]

    return script


def run_open_batches(args: argparse.Namespace, host: str, port: int, seeded: dict, texts: list[str]) -> dict:
    """Batches at the offered comment rate to the API, then to the floor; their figures as JSON fields."""
    batches_per_s = args.open_rate / args.batch
    run = {"rate": batches_per_s, "duration": args.open_duration, "warmup": args.warmup}
    run["connection_cap"] = args.connection_cap
    token, stream = seeded["token"], seeded["stream"]
    common.say(f"open loop: {args.open_rate:g} comments/s offered ({batches_per_s:g} batches/s, Poisson)")
    # Caller numbers past the closed loop's, so every id is fresh.
    units = batch_script(host, port, token, stream, args.batch, texts, [0])(1000 + args.concurrency)
    api = open_loop.run_open_loop(host, port, units=units, **run)
    common.say(f"open ingest (a request is a batch of {args.batch}): {api.describe()}")
    floor_units = batch_script(host, port, token, stream, args.batch, texts, [0], path="/bench/floor")(2000)
    floor = open_loop.run_open_loop(host, port, units=floor_units, **run, seed=18)
    common.say(f"open floor (a request is a batch of {args.batch}): {floor.describe()}")
    return {
        "open_rate": args.open_rate,
        **api.summary("open"),
        **{
            name.replace("open_", "open_floor_", 1): value
            for name, value in floor.summary("open").items()
            if name.endswith(("_ms", "_errors", "_late_sends", "_connections"))
        },
    }


def open_client_ceiling(args: argparse.Namespace, texts: list[str]) -> open_loop.Ceiling:
    """The highest rate of batches the open-loop client offers a do-nothing server with its schedule kept."""
    return open_loop.open_loop_ceiling(
        lambda: batch_script("127.0.0.1", 9, "token", 1, args.batch, texts, [0])(0),
        start_rate=args.open_rate / args.batch,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_bench_comments")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--skip-api", action="store_true", help="only the filter (no PostgreSQL needed)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--open-rate", type=float, default=5000.0, help="open loop: comments offered per second")
    parser.add_argument("--open-duration", type=float, default=10.0, help="open loop: measured seconds per target")
    parser.add_argument("--connection-cap", type=int, default=open_loop.DEFAULT_CONNECTION_CAP)
    parser.add_argument("--no-ceiling", action="store_true", help="skip measuring the open-loop client's ceiling")
    args = parser.parse_args()
    common.raise_on_sigterm()
    common.say(f"load average {common.load_average()}")
    # Kept connections (one per worker), so PostgreSQL's backends live through the run and their CPU
    # can be read; --env DB_CONN_MAX_AGE=0 measures a new connection per batch instead.
    env = common.django_env(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DB_CONN_MAX_AGE="60",
        **dict(item.split("=", 1) for item in args.env),
    )
    common.say(f"filter: {args.terms:,} terms, {args.texts:,} texts, one core")
    filtering = common.run_django_script(FILTER, {**env, "DATABASE_URL": ""}, args=[str(args.terms), str(args.texts)])
    common.say(
        f"filter {filtering['filter_per_s']:,}/s, regex {filtering['regex_per_s']:,}/s "
        f"(scan only: {filtering['filter_scan_per_s']:,}/s vs {filtering['regex_scan_per_s']:,}/s), "
        f"{filtering['matching_share']:.1%} matching, agree: {filtering['agree']}"
    )
    api: dict = {"api_per_s": None, "api_p99_ms": None}
    if not args.skip_api:
        server = None
        try:
            common.say(f"recreating {args.database_url}")
            common.recreate_postgres_database(args.database_url)
            common.manage(["migrate", "--no-input", "-v", "0"], env)
            seeded = common.run_django_script(SEED, env, args=[str(args.terms)])
            host, port = "127.0.0.1", common.free_port()
            log_path = Path(tempfile.gettempdir()) / f"liveward-bench-comments-{port}.log"
            common.say(f"starting uvicorn with {args.workers} workers on {host}:{port} (its log: {log_path})")
            server = common.start_asgi_server(env, host=host, port=port, workers=args.workers, log_path=log_path)
            common.wait_for_http(host, port, "/healthz", process=server)
            import opencc

            texts = make_texts(make_terms(args.terms), 20_000, to_traditional=opencc.OpenCC("s2t").convert)
            sent = [0]
            script = batch_script(host, port, seeded["token"], seeded["stream"], args.batch, texts, sent)
            common.say(f"ingest: {args.concurrency} callers, batches of {args.batch}, {args.duration:g} s")
            database = args.database_url.rsplit("/", 1)[-1]
            uvicorn, backends = server_processes(server.pid, database)
            cpu_before = cpu_seconds(uvicorn), cpu_seconds(backends)
            result = common.run_load(
                host, port, concurrency=args.concurrency, warmup=args.warmup, duration=args.duration, script=script
            )
            _uvicorn, late_backends = server_processes(server.pid, database)
            backends += [process for process in late_backends if process not in backends]
            app_cpu = cpu_seconds(uvicorn) - cpu_before[0]
            db_cpu = cpu_seconds(backends) - cpu_before[1]
            summary = common.latency_summary(result.all_latencies)
            comments_sent = max(1, sent[0] - args.concurrency) * args.batch  # the last of each caller may be unsent
            api = {
                "api_per_s": round(result.requests * args.batch / result.duration),
                "api_p50_ms": summary["p50_ms"],
                "api_p99_ms": summary["p99_ms"],
                "api_batches": result.requests,
                "api_errors": result.errors,
                "client_cpu_cores": round(result.client_cpu_share, 2),
                # CPU the server (uvicorn) and PostgreSQL spent per comment, whatever else ran meanwhile,
                # and what two idle cores would then take: an estimate, not a measurement of throughput.
                "app_cpu_us_per_comment": round(app_cpu / comments_sent * 1e6, 1),
                "db_cpu_us_per_comment": round(db_cpu / comments_sent * 1e6, 1),
                "two_core_estimate_per_s": round(2 / ((app_cpu + db_cpu) / comments_sent))
                if app_cpu + db_cpu
                else None,
            }
            common.say(
                f"ingest {api['api_per_s']:,} comments/s, batch p50 {summary['p50_ms']} ms, "
                f"p99 {summary['p99_ms']} ms, errors {result.errors} {dict(result.statuses)}"
            )
            # The floor: the same batches posted to /bench/floor, which reads the body and answers "ok"
            # through the same server, middleware and sync view: what taking a batch costs before any work.
            floor_sent = [0]
            floor_script = batch_script(
                host, port, seeded["token"], seeded["stream"], args.batch, texts, floor_sent, path="/bench/floor"
            )
            cpu_before = cpu_seconds(uvicorn)
            floor = common.run_load(
                host, port, concurrency=args.concurrency, warmup=1.0, duration=args.duration / 2, script=floor_script
            )
            floor_cpu = cpu_seconds(uvicorn) - cpu_before
            floor_summary = common.latency_summary(floor.all_latencies)
            floor_comments = max(1, floor_sent[0] - args.concurrency) * args.batch
            api.update(
                floor_per_s=round(floor.requests * args.batch / floor.duration),
                floor_p99_ms=floor_summary["p99_ms"],
                floor_app_cpu_us_per_comment=round(floor_cpu / floor_comments * 1e6, 1),
            )
            common.say(
                f"floor {api['floor_per_s']:,} comments/s, p99 {floor_summary['p99_ms']} ms, "
                f"{api['floor_app_cpu_us_per_comment']} µs of app CPU per comment"
            )
            api.update(run_open_batches(args, host, port, seeded, texts))
            if not args.no_ceiling:
                ceiling = open_client_ceiling(args, texts)
                common.say(f"open-loop client alone (do-nothing server): {ceiling.describe(args.batch, 'comments/s')}")
                api["open_client_ceiling_per_s"] = round(ceiling.rate * args.batch)
        finally:
            common.stop_process(server)
    figures = {
        "terms": filtering["terms"],
        "filter_per_s": filtering["filter_per_s"],
        "regex_per_s": filtering["regex_per_s"],
        **api,
        **{name: value for name, value in filtering.items() if name not in {"terms", "filter_per_s", "regex_per_s"}},
        "batch": args.batch,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "loadavg": common.load_average(),
    }
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
