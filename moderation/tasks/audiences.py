"""Viewer counts polled from every node with live streams (beat: LIVEWARD_VIEWERS_POLL_SECONDS)."""

from __future__ import annotations

import logging

from celery import shared_task

from moderation import actions, mediaservers
from moderation.models import MediaServer, Stream

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def poll_viewer_counts() -> dict[str, int]:
    """Ask each enabled node with live streams for its sessions' viewers; a node that fails is skipped."""
    node_ids = Stream.objects.live().values_list("node_id", flat=True).distinct()
    changed: dict[str, int] = {}
    for node in MediaServer.objects.filter(pk__in=list(node_ids), enabled=True):
        try:
            sessions = mediaservers.adapter_for(node).live_streams()
        except mediaservers.MediaServerError as exc:
            logger.warning("viewer counts of node %s unavailable: %s", node.name, exc)
            continue
        changed[node.name] = actions.record_node_viewers(node, sessions)
    return changed
