"""Who may do what: the one table of capabilities and the roles that hold each.

Pages, the REST API, the console's WebSocket, the navigation and the actions themselves all ask
this table (``may``, ``roles_for``, ``HasCapability``); nothing else lists roles per action. A new
capability adds its row here, and docs/architecture.md says how. An unknown capability raises
``KeyError``: a typo fails closed, and loudly, instead of letting everyone through.

Roles are staff roles (accounts.roles.Role); machine clients (the platform's backend, the review
service) are listed the same way, but a machine group never counts as a staff role, so a machine
token opens no staff capability. A machine client's token must also hold the endpoint's scope
(accounts.roles.Scope, named by the API view's ``scope``); an endpoint a machine may call that names
no scope is refused to every token.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from accounts.models import ApiToken
from accounts.roles import MACHINE_KINDS, MACHINE_PLATFORM, MACHINE_REVIEW, SHIFT_ROLES, Role, has_role
from moderation.errors import ModerationError
from moderation.models import Comment, ModerationAction, NewsDecision

PATROLLER = Role.PATROLLER
NEWS_REVIEWER = Role.NEWS_REVIEWER
EDITOR_IN_CHIEF = Role.EDITOR_IN_CHIEF
COMPLIANCE_ADMIN = Role.COMPLIANCE_ADMIN
INSPECTOR = Role.INSPECTOR
ANY_STAFF: tuple[str, ...] = tuple(Role.values)

Kind = ModerationAction.Kind
Decision = NewsDecision.Kind

# capability → the roles that hold it (any one of them suffices; superusers hold every staff role).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    # The patrol wall, stream pages and snapshots: every staff role may look.
    "console.view": ANY_STAFF,
    # Shifts (值班): who checks in and takes streams from the queue.
    "shift.work": SHIFT_ROLES,
    # Measures on a stream or its publisher (Art. 7, 8, 14), by moderation action kind.
    f"action.{Kind.MARK_PATROLLED}": (PATROLLER, COMPLIANCE_ADMIN),
    f"action.{Kind.WARN}": (PATROLLER, COMPLIANCE_ADMIN),
    f"action.{Kind.BLOCK}": (PATROLLER, EDITOR_IN_CHIEF, COMPLIANCE_ADMIN),
    f"action.{Kind.SUSPEND}": (PATROLLER, COMPLIANCE_ADMIN),
    f"action.{Kind.CLOSE}": (COMPLIANCE_ADMIN,),
    f"action.{Kind.ESCALATE}": (PATROLLER,),
    f"action.{Kind.LIFT}": (COMPLIANCE_ADMIN, EDITOR_IN_CHIEF),
    # News review (Art. 5, 7): the queue and held interaction, then each decision.
    "news.review": (NEWS_REVIEWER, EDITOR_IN_CHIEF),
    "news.read": (NEWS_REVIEWER, EDITOR_IN_CHIEF, COMPLIANCE_ADMIN, INSPECTOR),
    f"news.{Decision.RECOMMEND}": (NEWS_REVIEWER, EDITOR_IN_CHIEF),
    f"news.{Decision.RETURN}": (NEWS_REVIEWER, EDITOR_IN_CHIEF),
    f"news.{Decision.APPROVE}": (EDITOR_IN_CHIEF,),
    f"news.{Decision.REJECT}": (EDITOR_IN_CHIEF,),
    f"news.{Decision.REVOKE}": (EDITOR_IN_CHIEF,),
    "licence.read": (COMPLIANCE_ADMIN, EDITOR_IN_CHIEF, INSPECTOR),
    "licence.manage": (COMPLIANCE_ADMIN,),
    # Notifications to the platform (docs/webhooks.md): the delivery page and "retry now".
    "webhooks.read": (COMPLIANCE_ADMIN, INSPECTOR),
    "webhooks.manage": (COMPLIANCE_ADMIN,),
    # The service agreement (Art. 13): publishing a new version.
    "agreement.read": (COMPLIANCE_ADMIN, INSPECTOR),
    "agreement.manage": (COMPLIANCE_ADMIN,),
    # The escalation inbox: escalations (the patroller's ``e``) claimed and resolved.
    "escalation.read": (COMPLIANCE_ADMIN, EDITOR_IN_CHIEF, INSPECTOR),
    "escalation.handle": (COMPLIANCE_ADMIN,),
    # 分类备案 (Art. 12): the filing export for the provincial office.
    "filing.export": (COMPLIANCE_ADMIN,),
    # The category a publisher is filed under: the platform sets it, or a compliance admin corrects it.
    "filing.manage": (COMPLIANCE_ADMIN, MACHINE_PLATFORM),
    # Real-name verification (Art. 12): the manual review queue and its scans.
    "verification.read": (COMPLIANCE_ADMIN, INSPECTOR),
    "verification.review": (COMPLIANCE_ADMIN,),
    # A publisher's full identity (shown masked everywhere else): revealed with a reason, logged.
    "identity.reveal": (COMPLIANCE_ADMIN,),
    # Comments held for a reason (Art. 7, 11): who releases or rejects them, by hold reason.
    f"comment.review.{Comment.HoldReason.NEWS_PRE_REVIEW}": (NEWS_REVIEWER, EDITOR_IN_CHIEF),
    f"comment.review.{Comment.HoldReason.CREDIT_PRE_REVIEW}": (PATROLLER, COMPLIANCE_ADMIN),
    f"comment.review.{Comment.HoldReason.SLOW_MODE}": (PATROLLER, COMPLIANCE_ADMIN),
    f"comment.review.{Comment.HoldReason.SENSITIVE_TERM}": (PATROLLER, COMPLIANCE_ADMIN),
    f"comment.review.{Comment.HoldReason.EMERGENCY}": (PATROLLER, COMPLIANCE_ADMIN),
    "comment.review.other": (COMPLIANCE_ADMIN,),
    # The hold queue page and its live frames: whoever may decide some held comment, and inspectors.
    "comments.queue": (PATROLLER, NEWS_REVIEWER, EDITOR_IN_CHIEF, COMPLIANCE_ADMIN, INSPECTOR),
    # Measures on viewers (Art. 14): mute on a stream or everywhere, delete recent comments, unmute.
    "viewer.measure": (PATROLLER, COMPLIANCE_ADMIN),
    # A stream's comments switched to hold-all (slow mode) and back.
    "comments.slow_mode": (PATROLLER, COMPLIANCE_ADMIN),
    # The sensitive-term list: kept by compliance admins, read by inspectors.
    "terms.read": (COMPLIANCE_ADMIN, INSPECTOR),
    "terms.manage": (COMPLIANCE_ADMIN,),
    # Credit (Art. 15): the policy, publishers' scores, appeals.
    "credit.read": (COMPLIANCE_ADMIN, INSPECTOR),
    "credit.manage": (COMPLIANCE_ADMIN,),
    # The blacklist (Art. 15) and its reports to the provincial office.
    "blacklist.read": (COMPLIANCE_ADMIN, INSPECTOR),
    "blacklist.change": (COMPLIANCE_ADMIN,),
    # Alerts only compliance admins get (licences expiring, blacklistings not yet reported).
    "compliance.alerts": (COMPLIANCE_ADMIN,),
    # Record lists (记录查询): publishers, streams, actions, gate decisions — every staff role reads
    # them (identity masked); the staff action log only compliance admins and inspectors.
    "records.read": ANY_STAFF,
    "records.staff_log": (COMPLIANCE_ADMIN, INSPECTOR),
    # Public reports (Art. 19): who handles the queue, who reads it.
    "report.handle": (PATROLLER, COMPLIANCE_ADMIN),
    "report.read": (PATROLLER, COMPLIANCE_ADMIN, INSPECTOR),
    # Emergencies (Art. 7, 应急处置): declare, confirm and end them; everyone on staff sees the banner.
    "emergency.manage": (COMPLIANCE_ADMIN,),
    "emergency.read": (COMPLIANCE_ADMIN, INSPECTOR, PATROLLER),
    # Reports of serious violations to the authorities (Art. 14).
    "authority_report.file": (COMPLIANCE_ADMIN,),
    "authority_report.read": (COMPLIANCE_ADMIN, INSPECTOR),
    # Security: login lockouts and their unlock.
    "security.lockouts": (COMPLIANCE_ADMIN,),
    # Audits (Art. 7, 14, 16): their runs and findings, alerts to the staff on duty, schedules.
    "audit.read": (PATROLLER, EDITOR_IN_CHIEF, COMPLIANCE_ADMIN, INSPECTOR),
    "audit.alerts": SHIFT_ROLES,
    "audit.handle": (PATROLLER, COMPLIANCE_ADMIN),
    "audit.run": (COMPLIANCE_ADMIN,),
    "audit.schedule": (COMPLIANCE_ADMIN,),
    # The compliance dashboard, and who gets the day's report by mail.
    "dashboard.view": ANY_STAFF,
    "compliance.report": (COMPLIANCE_ADMIN,),
    # Records (Art. 14, 16): exports for inspections, retention and legal holds.
    "records.export": (COMPLIANCE_ADMIN, INSPECTOR),
    "retention.read": (COMPLIANCE_ADMIN, INSPECTOR),
    "records.manage": (COMPLIANCE_ADMIN,),
    # The REST API: records for staff, and the machine clients' own endpoints.
    "api.staff": ANY_STAFF,
    "api.gate_decisions": (PATROLLER, COMPLIANCE_ADMIN, INSPECTOR),
    "api.platform": (MACHINE_PLATFORM,),
    "api.platform_or_staff": (*ANY_STAFF, MACHINE_PLATFORM),
    "api.review_service": (MACHINE_REVIEW,),
}


# Who may reach the URLs no capability guards, and why; by URL name. The permission walk
# (tests/test_permission_walk.py) fails for any URL that is neither guarded by a capability (a page's
# require_role, an API view's ``capability``) nor listed here. ``anyone``: no login; ``authenticated``:
# any signed-in account or API token; ``node``: a media-server node's secret in the path (gate/nodes.py).
UNGUARDED_ENDPOINTS: dict[str, tuple[str, str]] = {
    "report": ("anyone", "the public report form (Art. 19), limited per address and device"),
    "report-status": ("anyone", "a report's status, to whoever holds its receipt number"),
    "report-challenge": ("anyone", "the public form's proof-of-work challenge: signed, nothing stored"),
    "accounts:login": ("anyone", "the login page"),
    "accounts:logout": ("anyone", "logging out"),
    "accounts:password-change": ("authenticated", "every account changes its own password"),
    "accounts:two-factor": ("authenticated", "the second step of every staff login, after the password"),
    "accounts:two-factor-enrol": ("authenticated", "enrolling an authenticator, all a new account may do"),
    "accounts:recovery-codes": ("authenticated", "every account renews its own recovery codes"),
    "accounts:session": ("authenticated", "the idle clock of one's own session (idle.js)"),
    "accounts:preferences": ("authenticated", "one's own theme and wall density (theme.js)"),
    "gate-nginx-rtmp": ("node", "nginx-rtmp callbacks: the node's secret and allow-list"),
    "gate-srs": ("node", "SRS callbacks: the node's secret and allow-list"),
    "api-schema": ("authenticated", "the API's schema, for staff and API clients"),
    "api-docs": ("authenticated", "the API's documentation"),
    "api-redoc": ("authenticated", "the API's documentation"),
    "api-health": ("authenticated", "tells an API client that the API is up"),
    "healthz": ("anyone", "the load balancer's health check: ok or not, no data"),
    "set_language": ("anyone", "the language switch"),
}
# Django's admin (namespace ``admin``) guards itself: superusers only (no staff role is is_staff).
ADMIN_NAMESPACE = "admin"

# The console WebSocket's inbound message types (console/consumers.py MESSAGE_HANDLERS) and the
# capabilities that may send each: holding none of them, the frame is refused ``forbidden`` before its
# handler runs; the handler then checks the exact one (the action kind, the decision, the hold reason).
MESSAGE_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "ping": ("console.view",),
    "resync": ("console.view",),
    "action": tuple(f"action.{kind}" for kind in Kind.values if f"action.{kind}" in PERMISSIONS),
    "claim": ("shift.work",),
    "news.resync": ("news.review",),
    "news.decide": tuple(f"news.{decision}" for decision in Decision.values if f"news.{decision}" in PERMISSIONS),
    "comment.decide": ("news.review",),
    "comments.resync": ("comments.queue",),
    "comments.decide": tuple(capability for capability in PERMISSIONS if capability.startswith("comment.review.")),
    "viewer.mute": ("viewer.measure",),
    "viewer.delete_comments": ("viewer.measure",),
}


def may_send(user, message_type: str) -> bool:
    """Tell whether the user holds any capability that may send this console message type (unknown: no)."""
    return any(may(user, capability) for capability in MESSAGE_CAPABILITIES.get(message_type, ()))


def roles_for(capability: str) -> tuple[str, ...]:
    """Return the roles that hold ``capability`` (KeyError for an unknown one)."""
    return PERMISSIONS[capability]


def may(user, capability: str) -> bool:
    """Tell whether the user holds a role that has ``capability``."""
    return has_role(user, *roles_for(capability))


def check(user, capability: str) -> None:
    """Refuse (ModerationError ``forbidden``) unless the user holds ``capability``; actions call this."""
    if not may(user, capability):
        raise ModerationError("your role may not do this", code="forbidden")


def action_capability(kind: str) -> str:
    """Return the capability of a moderation action kind (``block`` → ``action.block``)."""
    return f"action.{kind}"


def news_decision_capability(decision: str) -> str:
    """Return the capability of an editorial decision on a news application."""
    return f"news.{decision}"


def comment_review_capability(hold_reason: str) -> str:
    """Return the capability of deciding a comment held for ``hold_reason`` (compliance for unknown ones)."""
    capability = f"comment.review.{hold_reason}"
    return capability if capability in PERMISSIONS else "comment.review.other"


def decidable_hold_reasons(user) -> list[str]:
    """Return the hold reasons of the comments this user may release or reject."""
    return [reason for reason in Comment.HoldReason.values if reason and may(user, comment_review_capability(reason))]


def is_machine_client(user) -> bool:
    """Tell whether the user is an API client (a machine group), not a member of staff."""
    return bool(getattr(user, "is_authenticated", False)) and bool(user.role_names.intersection(MACHINE_KINDS))


def owns(user, owner_id: int | None) -> bool:
    """Tell whether the user may see an object its owner submitted: staff see all, a machine client its own."""
    return not is_machine_client(user) or (owner_id is not None and owner_id == user.pk)


def client_objects(queryset, user, *, owner: str = "submitted_by"):
    """Narrow a queryset to the objects this user may see through the API (a machine client: its own)."""
    return queryset.filter(**{owner: user}) if is_machine_client(user) else queryset


def token_may(token: ApiToken | None, scope: str | None) -> bool:
    """Tell whether a request's token (None for a signed-in staff member) holds the endpoint's scope."""
    if token is None:
        return True
    return scope is not None and scope in (token.scopes or [])


class HasCapability(BasePermission):
    """REST API permission: the view's ``capability``, and for a machine token the view's ``scope``.

    A view that names no capability is refused; a token without the scope is refused with the code
    ``scope_missing``.
    """

    def has_permission(self, request, view) -> bool:
        capability = getattr(view, "capability", None)
        if capability is None or not may(request.user, capability):
            return False
        token = request.auth if isinstance(request.auth, ApiToken) else None
        scope = getattr(view, "scope", None)
        if not token_may(token, scope):
            self.code = "scope_missing"
            self.message = f"This token does not hold the scope {getattr(scope, 'value', scope)!r} this endpoint needs."
            return False
        return True
