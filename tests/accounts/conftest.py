import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash the personas' passwords cheaply; the real hasher's cost is for production, not for tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
