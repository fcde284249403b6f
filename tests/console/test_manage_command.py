"""bin/manage: any management command in the environment bin/run gives the console (its keys, its var/)."""

from __future__ import annotations

import os
import stat
import subprocess

from django.conf import settings

STRIPPED = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "LIVEWARD_BLACKLIST_HASH_KEY",
    "LIVEWARD_BLACKLIST_HASH_KEY_FILE",
    "DEBUG",
}


def manage(var_dir, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in STRIPPED}
    env["LIVEWARD_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        ["bash", "bin/manage", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_readme_commands_run_through_bin_manage_on_a_bin_run_install(tmp_path):
    """Without SECRET_KEY in the shell, as on a laptop that only ever ran bin/run: no traceback."""
    migrated = manage(tmp_path, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr

    node = manage(
        tmp_path, "register_media_server", "edge-1", "--kind", "nginx_rtmp", "--control-url", "http://10.0.0.21:8080/"
    )

    assert node.returncode == 0, node.stderr
    assert "Traceback" not in node.stderr
    assert "/gate/nginx-rtmp/edge-1/" in node.stdout  # the callbacks, with the secret shown once
    # The keys bin/run makes, made once, private, and the same for every later command.
    for name in ("secret_key", "blacklist_hash_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    key = manage(tmp_path, "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)")
    assert key.stdout.strip().splitlines()[-1] == (tmp_path / "secret_key").read_text().strip()
