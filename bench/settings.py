"""Settings for the servers the bench scripts start: production's, with the floor view routed."""

from console.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
