"""Inspection exports: build one in a worker; delete the expired ones on beat."""

from celery import shared_task

from moderation.actions import inspection_exports


@shared_task(name="moderation.tasks.exports.build_inspection_export", acks_late=True, reject_on_worker_lost=True)
def build_inspection_export(export_id: int) -> str:
    """Build the export's zip; redelivered after a killed worker, build it again."""
    return inspection_exports.build_inspection_export(export_id)


@shared_task(name="moderation.tasks.exports.expire_inspection_exports", acks_late=True, ignore_result=True)
def expire_inspection_exports() -> int:
    """Delete the files of exports past their expiry."""
    return inspection_exports.expire_inspection_exports()
