"""Production settings: check --deploy is clean behind TLS, and the policy the pages carry (issue 12)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings as django_settings
from django.test import Client

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]


def check_deploy(tmp_path, **overrides: str) -> subprocess.CompletedProcess:
    """Run ``manage.py check --deploy`` as production would start it: DEBUG off, real secrets, TLS proxy."""
    ours = ("DJANGO_", "LIVEWARD_", "SECURE_", "SESSION_", "CSRF_", "DEBUG", "BEHIND_TLS_PROXY", "ALLOWED_HOSTS")
    env = {name: value for name, value in os.environ.items() if not name.startswith(ours)}
    env.update(
        DJANGO_SETTINGS_MODULE="console.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        LIVEWARD_BLACKLIST_HASH_KEY=secrets.token_hex(32),
        LIVEWARD_IDENTITY_KEY=secrets.token_hex(32),
        LIVEWARD_VAR_DIR=str(tmp_path),
        ALLOWED_HOSTS="console.example.com",
        BEHIND_TLS_PROXY="1",
    )
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_deploy_is_clean_behind_tls(tmp_path):
    result = check_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_without_tls(tmp_path):
    # The same start-up on plain HTTP is what the check exists to catch: the clean run above means something.
    result = check_deploy(tmp_path, BEHIND_TLS_PROXY="0")
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stdout + result.stderr


def test_an_authority_signing_key_that_is_not_an_ed25519_pem_stops_start_up(tmp_path):
    # A deployment that kept the former HMAC secret in LIVEWARD_AUTHORITY_SIGNING_KEY is told at start-up.
    result = check_deploy(tmp_path, LIVEWARD_AUTHORITY_SIGNING_KEY="an-old-hmac-secret-0123456789")
    assert result.returncode != 0 and "LIVEWARD_AUTHORITY_SIGNING_KEY" in result.stderr
    assert "Ed25519" in result.stderr
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert check_deploy(tmp_path, LIVEWARD_AUTHORITY_SIGNING_KEY=other.decode()).returncode != 0  # not Ed25519


@pytest.mark.django_db
def test_behind_tls_plain_http_is_redirected_and_https_carries_hsts(settings, admin):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    client = Client()
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
    assert client.post("/gate/nginx-rtmp/edge/x/on_publish", {"name": "k"}).status_code != 301  # nodes: plain HTTP
    secure = client.get("/accounts/login/", headers={"x-forwarded-proto": "https"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_the_policy_allows_scripts_from_this_origin_only():
    directives = django_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in str(directives) and "'unsafe-eval'" not in str(directives)
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]


@pytest.mark.django_db
def test_every_page_carries_the_policy(client, admin):
    client.force_login(admin)
    for url in ("/accounts/login/", "/", "/records/retention/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"""<[^>]*\son[a-z]+\s*=""", re.IGNORECASE)


def test_no_template_holds_an_inline_script_or_handler():
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        offenders += [f"{template.name}: {match.group(0)}" for match in INLINE_SCRIPT.finditer(text)]
        offenders += [f"{template.name}: {match.group(0)[:60]}" for match in HANDLER_ATTRIBUTE.finditer(text)]
        if "javascript:" in text:
            offenders.append(f"{template.name}: javascript: URL")
    assert not offenders, offenders
