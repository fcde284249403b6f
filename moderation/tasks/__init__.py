"""Celery tasks of the moderation domain: thin and idempotent, each calls one action.

Celery's autodiscovery imports this package; each submodule registers its tasks on import.
"""

import moderation.tasks.webhooks  # noqa: F401
from moderation.tasks import audiences, audits, blacklist, credit, cuts, emergencies, news, reports, snapshots  # noqa: F401
