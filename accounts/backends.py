"""The lockout in front of the password check."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout for every login that comes with a request (every login page and API login).

    A request-less call to ``authenticate`` comes only from code in this process (the test client's
    ``login``), never from the network, so it has no address to count and is left to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
