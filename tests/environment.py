"""A pytest plugin loaded before Django reads its settings (see pyproject's addopts).

It gives the tests their defaults from the environment and, when REDIS_URL is unset, starts an
embedded redis-server for this run, as the run command does.
"""

import os
import tempfile
from pathlib import Path

from console.embedded import EmbeddedRedis

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("LIVEWARD_BLACKLIST_HASH_KEY", "tests-only-blacklist-hash-key-0123456789abcdef")
os.environ.setdefault("LIVEWARD_IDENTITY_KEY", "tests-only-identity-key-0123456789abcdefghijkl")
# The public report page's proof of work: a lighter one than production's, the same check (report_proof.py).
os.environ.setdefault("LIVEWARD_REPORT_PROOF_BITS", "12")

_redis: EmbeddedRedis | None = None
if not os.environ.get("REDIS_URL"):
    _redis_dir = tempfile.mkdtemp(prefix="liveward-test-redis-")
    _redis = EmbeddedRedis(Path(_redis_dir) / "redis.sock").start()
    os.environ["REDIS_URL"] = _redis.url


def pytest_report_header(config):
    database = os.environ.get("DATABASE_URL") or "SQLite (embedded default)"
    redis = "embedded redis-server" if _redis else os.environ["REDIS_URL"]
    return [f"liveward: database={database.split('@')[-1]}, redis={redis}"]


def pytest_unconfigure(config):
    if _redis is not None:
        _redis.stop()
