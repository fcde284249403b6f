"""Inspectors (监督检查) read everything and change nothing: every capability an inspector holds is
a read (or the export that hands records over), and every read capability is the inspector's."""

from __future__ import annotations

from moderation.permissions import INSPECTOR, PERMISSIONS

READ_SUFFIXES = (".read", ".view", ".staff_log", ".queue")
# The inspection's own hand-over (配合监督检查, Art. 16) and the read-only REST API.
READ_ALSO = {"records.export", "api.staff", "api.gate_decisions", "api.platform_or_staff"}


def test_every_capability_an_inspector_holds_reads():
    held = {capability for capability, roles in PERMISSIONS.items() if INSPECTOR in roles}
    assert held, "the inspector holds nothing"
    changing = sorted(c for c in held if not c.endswith(READ_SUFFIXES) and c not in READ_ALSO)
    assert changing == [], changing


def test_every_read_capability_is_the_inspectors():
    reads = {capability for capability in PERMISSIONS if capability.endswith((".read", ".staff_log"))}
    assert reads
    assert sorted(c for c in reads if INSPECTOR not in PERMISSIONS[c]) == []


def test_the_inspector_holds_no_action_decision_or_management():
    verbs = ("action.", "news.", ".manage", ".change", ".handle", ".review", ".reveal", ".file", ".run")
    held = [c for c, roles in PERMISSIONS.items() if INSPECTOR in roles and c != "news.read"]
    assert [c for c in held if any(verb in c for verb in verbs)] == []
