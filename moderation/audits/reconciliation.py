"""Reconciliation (Art. 7, 8): the gate's live rows against each node's own list (nginx-rtmp /stat, SRS streams).

Every enabled node is asked; what differs is put right by ``actions.reconcile_node`` and reported:
a row the node lost (closed ``NODE_LOST``), a session live without an allow (cut), a node that did
not answer (its streams shown unknown on the wall).
"""

from __future__ import annotations

from moderation import actions
from moderation.audits.context import AuditContext, Severity
from moderation.models import MediaServer, Stream, hash_stream_key
from moderation.models.publishers import STREAM_KEY_PREFIX_LENGTH


def check(context: AuditContext) -> dict:
    """Reconcile every enabled node; a finding for each difference."""
    nodes = list(MediaServer.objects.filter(enabled=True).order_by("name"))
    summary = {"nodes": len(nodes), "sessions": 0, "rows": 0, "closed": 0, "cut": 0, "unreachable": 0}
    for done, node in enumerate(nodes, 1):
        result = actions.reconcile_node(node)
        summary["sessions"] += result.sessions
        summary["rows"] += result.rows
        if result.error:
            summary["unreachable"] += 1
            context.finding(
                key=f"node:{node.name}:unreachable",
                severity=Severity.CRITICAL,
                title=f"node {node.name} did not answer ({result.error}); {result.unknown_streams} streams unknown",
                data={"error": result.error, "streams": result.unknown_streams},
                node=node,
            )
        streams = Stream.objects.in_bulk(result.closed)
        for stream_id in result.closed:
            summary["closed"] += 1
            context.finding(
                key=f"stream:{stream_id}:node-lost",
                severity=Severity.WARNING,
                title=f"stream {stream_id} was open at the gate but {node.name} no longer has it: closed",
                data={"stream": stream_id},
                stream=streams.get(stream_id),
                node=node,
            )
        for session in result.cut:
            summary["cut"] += 1
            name, data = _session_shown(session)
            context.finding(
                key=f"node:{node.name}:unallowed:{session.app}/{data['key_hash']}/{session.client_id}"[:200],
                severity=Severity.CRITICAL,
                title=f"{node.name} had {session.app}/{name} live without an allow: cut",
                data=data | {"addr": session.addr},
                node=node,
            )
        for session, error in result.cut_failed:
            name, data = _session_shown(session)
            context.finding(
                key=f"node:{node.name}:unallowed:{session.app}/{data['key_hash']}/{session.client_id}"[:200],
                severity=Severity.CRITICAL,
                title=f"{node.name} has {session.app}/{name} live without an allow; the cut failed",
                data=data | {"error": error},
                node=node,
            )
        context.progress(done, len(nodes))
    return summary


def _session_shown(session) -> tuple[str, dict]:
    """A session as a finding shows it: the key's first characters and its hash, never the key."""
    prefix = session.name[:STREAM_KEY_PREFIX_LENGTH]
    data = {
        "app": session.app,
        "key": prefix,
        "key_hash": hash_stream_key(session.name),
        "client_id": session.client_id,
    }
    return f"{prefix}…", data
