"""Queue Celery tasks by name, so an action need not import the task module that calls it back.

Tasks are thin entry points over actions (``moderation/tasks/``), so they import actions; an action
that schedules work (a cut's retry, a webhook's delivery) names the task instead of importing it,
which keeps the imports one way. A task registered in this process (always in a worker, and in
any process that imported it) is sent through its own object; otherwise by name.
"""

from __future__ import annotations

from celery import current_app


def enqueue(name: str, *args, countdown: float | None = None, task_id: str | None = None) -> None:
    """Send task ``name`` with ``args`` to the broker; raise what the broker raises when it is down.

    ``task_id`` names the message (an audit run is found again by it when the task is redelivered).
    """
    named = {"task_id": task_id} if task_id else {}
    task = current_app.tasks.get(name)
    if task is not None:
        task.apply_async(args, countdown=countdown, **named)
    else:
        current_app.send_task(name, args=args, countdown=countdown, **named)
