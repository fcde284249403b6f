"""Liveward settings (DJANGO_SETTINGS_MODULE=console.settings), read from the environment.

Unset means the embedded default: a SQLite file and an embedded Redis. A bad value stops start-up
with a message naming the variable. One module per concern; each section says which docs page
explains it. Django reads the upper-case names gathered here.
"""

from console.settings.base import *  # noqa: F403
from console.settings.liveward import *  # noqa: F403
from console.settings.staff_login import *  # noqa: F403
