"""Identity at rest (docs/deploy.md "Identity keys", docs/security.md "Identity at rest").

LIVEWARD_IDENTITY_KEY (or LIVEWARD_IDENTITY_KEY_FILE): the keys that encrypt publishers' names, ID
numbers, phones, licence numbers, reporters' contacts and the uploaded scans, separated by commas or
new lines, the newest first. The newest encrypts; every one decrypts. Rotate by putting a new key
first, restarting, and running `manage.py rotate_identity_key`; drop the old key only after that.
Required unless DEBUG=1 (the run command makes one once in var/identity_key, mode 0600).
"""

import hashlib
import hmac
import re

from django.core.exceptions import ImproperlyConfigured

from console.environment import env_str
from console.settings.base import DEBUG, SECRET_KEY

_MIN_LENGTH = 32

LIVEWARD_IDENTITY_KEYS = [key for key in re.split(r"[,\s]+", env_str("LIVEWARD_IDENTITY_KEY")) if key]
if not LIVEWARD_IDENTITY_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "LIVEWARD_IDENTITY_KEY (or LIVEWARD_IDENTITY_KEY_FILE) is required unless DEBUG=1: a random string of "
            "at least 32 characters that encrypts identity at rest; keep it, and every older key, as long as data "
            "encrypted under it exists."
        )
    # DEBUG without a key: one derived from SECRET_KEY, so a developer's data stays readable between runs.
    LIVEWARD_IDENTITY_KEYS = [hmac.new(SECRET_KEY.encode(), b"liveward.identity.key", hashlib.sha256).hexdigest()]
for _key in LIVEWARD_IDENTITY_KEYS:
    if len(_key) < _MIN_LENGTH:
        raise ImproperlyConfigured(f"Every key in LIVEWARD_IDENTITY_KEY must be at least {_MIN_LENGTH} characters.")
if len(set(LIVEWARD_IDENTITY_KEYS)) != len(LIVEWARD_IDENTITY_KEYS):
    raise ImproperlyConfigured("LIVEWARD_IDENTITY_KEY lists the same key twice.")

# Files under MEDIA_ROOT and var/ are the user's alone (the scans are encrypted as well).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
