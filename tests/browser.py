"""Browser tests: Playwright driving Debian's Chromium against a live ASGI server.

Use it from a test module by importing the fixtures it needs (``from tests.browser import
_asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401``) and
mark the tests ``@pytest.mark.browser``. When Chromium or Playwright is missing the fixtures skip the
test on a laptop and fail it in CI (the CI environment variable is set).

- ``asgi_server``: ``uvicorn console.asgi:application`` in a subprocess on a free loopback port, against
  the test database (so it needs ``transactional_db``: what the test writes is committed and seen),
  the suite's Redis, static files served. pytest-django's ``live_server`` is WSGI, without WebSockets.
  ``running_asgi_server(directory, redis_url=…)`` starts one against another Redis (a fault test's own).
- ``browser`` (one Chromium per test), ``browser_page`` (a fresh context and page per test),
  ``new_page`` (more contexts in the same test: a second console).
- ``log_in(page, server, user)``: log a persona in through the login form and its second step.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.db import connection

import pytest

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SERVER_START_TIMEOUT = 30.0


def in_ci() -> bool:
    """Tell whether this run is CI, where a missing browser is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def skip_or_fail(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


# --- the live ASGI server ----------------------------------------------------------------------


@dataclass
class AsgiServer:
    url: str
    process: subprocess.Popen
    log: Path

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :] + "/ws/console/"

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url_for_tests() -> str:
    """Return a DATABASE_URL for the database this test process uses (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        credentials = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db.get("HOST") or "localhost"
        if host.startswith("/"):  # a unix socket directory
            return f"postgresql://{credentials}@/{db['NAME']}?host={quote(host, safe='')}"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgresql://{credentials}@{host}{port}/{db['NAME']}"
    raise RuntimeError(f"no DATABASE_URL for the {db['ENGINE']} test database")


def _wait_until_healthy(server: AsgiServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.process.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not answer /healthz within {SERVER_START_TIMEOUT} s:\n{server.output()}")


def _stop(process: subprocess.Popen, *, grace: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


@contextmanager
def running_asgi_server(directory: Path, *, redis_url: str) -> Iterator[AsgiServer]:
    """Run the console under uvicorn against the test database and the Redis at ``redis_url``."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or settings.SECRET_KEY,
        "REDIS_URL": redis_url,
        "SERVE_STATIC": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
        "DB_CONN_MAX_AGE": "0",
        "LIVEWARD_VAR_DIR": str(directory / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    log = directory / "uvicorn.log"
    command = [
        sys.executable, "-m", "uvicorn", "console.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off", "--log-level", "warning",
    ]  # fmt: skip
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


@pytest.fixture(scope="session")
def _asgi_server_process(django_db_setup, tmp_path_factory) -> Iterator[AsgiServer]:
    # One server for the session: the test database outlives each test (transactional tests flush it),
    # and the server keeps no connection between requests (DB_CONN_MAX_AGE is 0).
    directory = tmp_path_factory.mktemp("asgi-server")
    with running_asgi_server(directory, redis_url=os.environ["REDIS_URL"]) as server:  # from tests/environment.py
        yield server


@pytest.fixture
def asgi_server(transactional_db, _asgi_server_process) -> AsgiServer:
    """The console (HTTP and WebSocket) under uvicorn, against the test database; data committed."""
    if _asgi_server_process.process.poll() is not None:
        raise RuntimeError(f"uvicorn has exited:\n{_asgi_server_process.output()}")
    return _asgi_server_process


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture
def browser(transactional_db):
    """A headless Chromium (Debian's, never a downloaded one), started after the test database is set up.

    Per test, not per session: once Playwright's sync API has started on this thread, Django's
    connection handler (context-local) hands out fresh connections, so a database set-up after it
    (a serialized rollback's reload) would go to a connection the test never uses.
    """
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright for Python is not installed")
    # Playwright's sync API keeps an event loop on this thread; the ORM calls a test makes between
    # page calls are still synchronous, so let Django make them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser) -> Iterator[Callable]:
    """Open pages in fresh browser contexts (separate cookies: separate consoles); closed at teardown."""
    contexts = []

    def open_page(**context_options):
        options = {"locale": "zh-CN", "viewport": {"width": 1280, "height": 900}, **context_options}
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_page):
    """A page in a fresh browser context."""
    return new_page()


# Fast, but one the server knows: the suite hashes with MD5, which production settings do not accept.
_SERVER_HASHER = PBKDF2PasswordHasher()
_SERVER_HASHER.iterations = 1000


def log_in(page, server: AsgiServer, user, *, password: str = PASSWORD, next_path: str = "/") -> None:
    """Log a persona in through the login form and wait for the page after it."""
    from accounts.models import User
    from tests.second_factor import enrolled_authenticator

    User.objects.filter(pk=user.pk).update(password=make_password(password, hasher=_SERVER_HASHER))
    enrolled_authenticator(user)  # enrolled as at an earlier login; this one passes the second step
    page.goto(f"{server.url}/accounts/login/?next={quote(next_path)}")
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if "/accounts/login/" in page.url:
        raise AssertionError(f"login as {user.get_username()} failed: {page.inner_text('main')[:300]}")
    if "/accounts/two-factor/" in page.url:  # the second step: the code the persona's authenticator shows
        from tests.second_factor import next_code

        page.fill("input[name=code]", next_code(user))
        with page.expect_navigation():
            page.click("form:has(input[name=code]) button[type=submit]")
        if "/accounts/two-factor/" in page.url:
            raise AssertionError(f"second factor of {user.get_username()} failed: {page.inner_text('main')[:300]}")
