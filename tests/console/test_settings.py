"""Settings come from the environment; a bad value stops start-up with a clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

import pytest

from console.settings import BASE_DIR

PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'broker': s.CELERY_BROKER_URL, "
    "'redis': s.REDIS_URL, 'lang': s.LANGUAGE_CODE, 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS}))"
)


def start(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    base.update({"DJANGO_SETTINGS_MODULE": "console.settings", "SECRET_KEY": "k"})
    base.update(env)
    for name in [name for name, value in env.items() if value is None]:
        base.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=BASE_DIR, env=base, capture_output=True, text=True, timeout=60
    )


def test_unset_means_the_embedded_defaults(tmp_path):
    result = start({"LIVEWARD_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert '"engine": "django.db.backends.sqlite3"' in result.stdout
    assert f'"redis": "unix://{tmp_path}/redis.sock"' in result.stdout
    assert f'"broker": "redis+socket://{tmp_path}/redis.sock"' in result.stdout
    assert '"lang": "zh-hans"' in result.stdout


def test_postgres_redis_and_rabbitmq_urls_are_taken():
    result = start(
        {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/liveward",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
        }
    )
    assert result.returncode == 0, result.stderr
    assert '"engine": "django.db.backends.postgresql"' in result.stdout
    assert '"redis": "redis://127.0.0.1:6379/3"' in result.stdout
    assert '"broker": "amqp://guest:guest@127.0.0.1:5672//"' in result.stdout


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SECRET_KEY": "", "DEBUG": "0"}, "SECRET_KEY"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"CELERY_BROKER_URL": "sqs://x"}, "CELERY_BROKER_URL"),
        ({"LANGUAGE_CODE": "fr"}, "LANGUAGE_CODE"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE"),
        ({"LIVEWARD_BLOCK_COOLING_OFF_MINUTES": "ten"}, "LIVEWARD_BLOCK_COOLING_OFF_MINUTES"),
        ({"LIVEWARD_MEDIA_SERVER_TIMEOUT": "0"}, "LIVEWARD_MEDIA_SERVER_TIMEOUT"),
        ({"LIVEWARD_BODY_TIMEOUT": "soon"}, "LIVEWARD_BODY_TIMEOUT"),
        ({"LIVEWARD_ANONYMOUS_MAX_BODY": "100"}, "LIVEWARD_ANONYMOUS_MAX_BODY"),
        ({"LIVEWARD_RESTART_LIMIT": "0"}, "LIVEWARD_RESTART_LIMIT"),
        ({"LIVEWARD_SECOND_PUBLISH": "both"}, "LIVEWARD_SECOND_PUBLISH"),
        ({"CSRF_TRUSTED_ORIGINS": "console.example.com"}, "CSRF_TRUSTED_ORIGINS"),
        ({"SECRET_KEY": None, "SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(env, named):
    result = start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.splitlines()[-1]


def test_secret_may_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    probe = "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY)"
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DJANGO_SETTINGS_MODULE": "console.settings", "SECRET_KEY_FILE": str(secret)})
    result = subprocess.run([sys.executable, "-c", probe], cwd=BASE_DIR, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "from-a-file", result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("the embedded default database only")
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000


def test_a_sqlite_url_with_an_absolute_path_is_taken(tmp_path):
    result = start({"DATABASE_URL": f"sqlite:///{tmp_path}/other.sqlite3"})
    assert result.returncode == 0, result.stderr
    assert '"engine": "django.db.backends.sqlite3"' in result.stdout


DATABASE_OPTIONS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps(s.DATABASES['default']['OPTIONS'], default=str))"
)


def database_options(env: dict[str, str]) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    base.update({"DJANGO_SETTINGS_MODULE": "console.settings", "SECRET_KEY": "k", **env})
    result = subprocess.run(
        [sys.executable, "-c", DATABASE_OPTIONS], cwd=BASE_DIR, env=base, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_postgresql_connections_get_the_timeouts_from_the_environment():
    options = database_options(
        {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/liveward?options=-c%20work_mem%3D8MB",
            "DB_CONNECT_TIMEOUT": "3",
            "DB_STATEMENT_TIMEOUT": "12.5",
            "DB_LOCK_TIMEOUT": "0",
        }
    )
    assert options["connect_timeout"] == 3
    assert options["options"] == "-c work_mem=8MB -c statement_timeout=12500 -c lock_timeout=0"
    assert options["tcp_user_timeout"] > 0 and options["keepalives"] == 1


def test_postgresql_timeouts_default_to_bounded_waits():
    options = database_options({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/liveward"})
    assert options["connect_timeout"] == 5
    assert options["options"] == "-c statement_timeout=30000 -c lock_timeout=10000"


def test_sqlite_waits_for_another_writer_as_long_as_the_lock_timeout(tmp_path):
    options = database_options({"LIVEWARD_VAR_DIR": str(tmp_path), "DB_LOCK_TIMEOUT": "7"})
    assert options["timeout"] == 7.0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_CONNECT_TIMEOUT", "0"),
        ("DB_STATEMENT_TIMEOUT", "-1"),
        ("DB_LOCK_TIMEOUT", "soon"),
        ("LIVEWARD_GATE_ANSWER_SECONDS", "0"),
        ("LIVEWARD_GATE_UPDATE_GRACE_SECONDS", "-5"),
        ("LIVEWARD_CUT_THREADS", "0"),
    ],
)
def test_a_bad_timeout_or_pool_size_stops_start_up_naming_it(name, value):
    result = start({name: value})
    assert result.returncode != 0
    assert name in result.stderr.splitlines()[-1]
