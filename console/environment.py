"""Reading settings from the environment: the tiny typed helpers console/settings/ uses.

Each reads one variable (or, for secrets, the file named by NAME_FILE); unset means the default; a
bad value raises ImproperlyConfigured naming the variable, so start-up stops with a clear message.
"""

import os
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured


def bad_value(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Environment variable {name}={value!r} is invalid: expected {expected}.")


def env_str(name: str, default: str = "") -> str:
    """Return NAME, or the contents of the file named by NAME_FILE, or the default."""
    if name in os.environ:
        return os.environ[name]
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise bad_value(name, value, "one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_value(name, value, "an integer") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise bad_value(name, value, f"an integer between {minimum} and {maximum}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise bad_value(name, value, "a number") from None
    if number != number or (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise bad_value(name, value, f"a number between {minimum} and {maximum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def check_url(name: str, value: str, schemes: set[str]) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes:
        raise bad_value(name, value, "a URL with scheme " + " or ".join(sorted(schemes)))
    if parsed.scheme == "sqlite":
        if not parsed.path or parsed.path == "/":
            raise bad_value(name, value, "sqlite:////absolute/path/to/file.sqlite3")
    elif parsed.scheme.startswith("unix") or parsed.scheme.endswith("socket"):
        if not parsed.path:
            raise bad_value(name, value, "a unix socket URL with a path")
    elif not parsed.hostname:
        raise bad_value(name, value, "a URL with a host")
    return value


def env_seconds_by_name(name: str, *, minimum: int, maximum: int) -> dict[str, int]:
    """Read ``name=seconds,name=seconds`` (e.g. a deadline per category); unset means none."""
    result: dict[str, int] = {}
    for item in env_list(name, []):
        key, _sep, seconds = item.partition("=")
        if not key.strip() or not seconds.strip().isdigit() or not minimum <= int(seconds) <= maximum:
            raise bad_value(name, item, f"name=seconds, seconds between {minimum} and {maximum}")
        result[key.strip()] = int(seconds)
    return result


def is_ed25519_private_pem(text: str) -> bool:
    """Tell whether ``text`` is an unencrypted Ed25519 private key in PEM (the authority signing key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        return isinstance(load_pem_private_key(text.encode(), password=None), Ed25519PrivateKey)
    except (ValueError, TypeError):
        return False
