"""Celery tasks of the moderation domain: thin and idempotent, each calls one action.

Celery's autodiscovery imports this package; each submodule registers its tasks on import.
"""

import moderation.tasks.webhooks  # noqa: F401
from moderation.tasks import (  # noqa: F401
    audiences,
    audits,
    blacklist,
    comments,
    compliance,
    credit,
    cuts,
    emergencies,
    exports,
    news,
    reports,
    snapshots,
)
