"""Reconciliation (Art. 7, 8): the gate's live rows against each node's own list (nginx-rtmp /stat, SRS streams).

Every enabled node is asked; what differs is put right by ``actions.reconcile_node`` and reported:
a row the node lost (closed ``NODE_LOST``), a session live without an allow (cut), a node that did
not answer (its streams shown unknown on the wall).
"""

from __future__ import annotations

from moderation import actions
from moderation.audits.context import AuditContext, Severity
from moderation.models import MediaServer, Stream


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
            context.finding(
                key=f"node:{node.name}:unallowed:{session.app}/{session.name}/{session.client_id}"[:200],
                severity=Severity.CRITICAL,
                title=f"{node.name} had {session.app}/{session.name[:24]} live without an allow: cut",
                data={"app": session.app, "key": session.name, "client_id": session.client_id, "addr": session.addr},
                node=node,
            )
        for session, error in result.cut_failed:
            context.finding(
                key=f"node:{node.name}:unallowed:{session.app}/{session.name}/{session.client_id}"[:200],
                severity=Severity.CRITICAL,
                title=f"{node.name} has {session.app}/{session.name[:24]} live without an allow; the cut failed",
                data={"app": session.app, "key": session.name, "client_id": session.client_id, "error": error},
                node=node,
            )
        context.progress(done, len(nodes))
    return summary
