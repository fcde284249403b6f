"""The permission walk: every URL, API endpoint and console message type is in moderation/permissions.py,
and each cell of the table holds for every role, each machine client and anonymous.

The first half reads the URL resolver and the consumer's handler table and fails for anything the
permission table does not list. The second half sends one real request per URL and identity (GET, or
the method the view answers) and checks that the guard lets exactly the table's holders through:
the others get 403 (a signed-in account), 401 or 403 (the API), or the login page (anonymous).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import pytest
from rest_framework.permissions import IsAuthenticated
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.actions import create_machine_client
from accounts.models import ApiToken, User
from accounts.roles import MACHINE_KINDS, MACHINE_PLATFORM, MACHINE_REVIEW, MACHINE_SCOPES, Role, Scope, has_role
from console.consumers import MESSAGE_HANDLERS
from moderation import permissions
from tests.conftest import PASSWORD


@dataclass(frozen=True)
class Endpoint:
    route: str
    name: str  # "namespace:name", or the route when it has none
    pattern: URLPattern
    namespace: str | None

    @property
    def view(self):
        return self.pattern.callback

    @property
    def api_class(self) -> type[APIView] | None:
        cls = getattr(self.view, "cls", None)
        return cls if isinstance(cls, type) and issubclass(cls, APIView) else None


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or route)
            yield Endpoint(route, name, entry, namespace)


ENDPOINTS = list(_walk(get_resolver().url_patterns))
OURS = [endpoint for endpoint in ENDPOINTS if (endpoint.namespace or "").split(":")[0] != permissions.ADMIN_NAMESPACE]
ADMIN = [endpoint for endpoint in ENDPOINTS if endpoint not in OURS]


def capability_of(endpoint: Endpoint) -> str | None:
    """The capability guarding an endpoint: the API view's, or the one whose roles a page requires."""
    cls = endpoint.api_class
    if cls is not None:
        return getattr(cls, "capability", None) if permissions.HasCapability in cls.permission_classes else None
    roles = getattr(endpoint.view, "required_roles", None)
    if roles is None:
        return None
    roles = set(roles or permissions.ANY_STAFF)
    matches = [name for name, holders in permissions.PERMISSIONS.items() if set(holders) == roles]
    return matches[0] if matches else f"<roles {sorted(roles)} match no capability>"


# --- everything is listed ----------------------------------------------------------------------------


def test_the_walk_sees_the_whole_url_conf():
    assert len(OURS) > 100 and len(ADMIN) > 50
    names = {endpoint.name for endpoint in OURS}
    assert {"console:home", "api-publishers", "gate-nginx-rtmp", "accounts:login"} <= names


def test_every_url_is_guarded_by_a_capability_in_the_table_or_listed_as_unguarded():
    unlisted = []
    for endpoint in OURS:
        capability = capability_of(endpoint)
        if capability is None:
            if endpoint.name not in permissions.UNGUARDED_ENDPOINTS:
                unlisted.append(f"{endpoint.route} ({endpoint.name}): no capability and not in UNGUARDED_ENDPOINTS")
        elif capability not in permissions.PERMISSIONS:
            unlisted.append(f"{endpoint.route} ({endpoint.name}): {capability}")
    assert unlisted == []
    stale = set(permissions.UNGUARDED_ENDPOINTS) - {endpoint.name for endpoint in OURS}
    assert stale == set(), "UNGUARDED_ENDPOINTS names URLs that do not exist"


def test_unguarded_api_views_still_ask_for_authentication():
    for endpoint in OURS:
        cls = endpoint.api_class
        if cls is None or capability_of(endpoint) is not None:
            continue
        assert permissions.UNGUARDED_ENDPOINTS[endpoint.name][0] == "authenticated", endpoint.name
        classes = getattr(endpoint.view, "initkwargs", {}).get("permission_classes", cls.permission_classes)
        assert IsAuthenticated in classes, endpoint.name


def test_every_endpoint_a_machine_may_call_names_a_scope_its_kind_can_hold():
    problems = []
    for endpoint in OURS:
        cls = endpoint.api_class
        capability = capability_of(endpoint)
        if cls is None or capability is None:
            continue
        kinds = set(permissions.roles_for(capability)) & set(MACHINE_KINDS)
        scope = getattr(cls, "scope", None)
        if kinds and scope not in Scope.values:
            problems.append(f"{endpoint.route}: a machine may call it but it names no scope")
        for kind in kinds:
            if scope is not None and scope not in MACHINE_SCOPES[kind]:
                problems.append(f"{endpoint.route}: scope {scope} is not one a {kind} client can hold")
    assert problems == []


def test_every_consumer_message_type_is_in_the_table():
    assert set(MESSAGE_HANDLERS) == set(permissions.MESSAGE_CAPABILITIES)
    for message_type, capabilities in permissions.MESSAGE_CAPABILITIES.items():
        assert capabilities, message_type
        for capability in capabilities:
            assert capability in permissions.PERMISSIONS, (message_type, capability)
            # No machine client uses the console's WebSocket.
            assert not set(permissions.roles_for(capability)) & set(MACHINE_KINDS), (message_type, capability)


def test_every_capability_in_the_table_names_known_roles_and_is_used():
    known = set(Role.values) | set(MACHINE_KINDS)
    for capability, holders in permissions.PERMISSIONS.items():
        assert holders and set(holders) <= known, capability


# --- each cell holds ---------------------------------------------------------------------------------

PERSONAS = ("patroller", "news_reviewer", "editor_in_chief", "admin", "inspector", "outsider")
MACHINES = {"platform": MACHINE_PLATFORM, "review": MACHINE_REVIEW}
IDENTITIES = ("anonymous", *PERSONAS, "superuser", *MACHINES)


@pytest.fixture
def identity(request, db):
    """(user or None, token or None) for one name of IDENTITIES."""
    name = request.param
    if name == "anonymous":
        return None, None
    if name == "superuser":
        return User.objects.create_superuser("root", password=PASSWORD), None
    if name in MACHINES:
        Group.objects.get_or_create(name=MACHINES[name])
        user, _key = create_machine_client(f"{name}-client", kind=MACHINES[name], actor=None)
        return user, ApiToken.objects.get(client=user)
    return request.getfixturevalue(name), None


_CONVERTER_VALUES = {
    "IntConverter": 999_999,
    "StringConverter": "nope",
    "SlugConverter": "nope",
    "PathConverter": "nope",
}


# Arguments that name a kind of page rather than an object: a real one, so the walk reaches the guard
# of that page (an unknown kind is its own answer).
SAMPLE_ARGUMENTS = {"console:records": {"kind": "publishers"}}


def concrete_path(endpoint: Endpoint) -> str | None:
    """A path for the endpoint with made-up arguments (ids of nothing); None for a regex route."""
    converters = getattr(endpoint.pattern.pattern, "converters", None)
    if converters is None or "(?P<" in endpoint.route or "^" in endpoint.route:
        return None
    kwargs = {}
    for argument, converter in converters.items():
        kind = type(converter).__name__
        kwargs[argument] = uuid.UUID(int=7) if kind == "UUIDConverter" else _CONVERTER_VALUES.get(kind, "nope")
    kwargs.update(SAMPLE_ARGUMENTS.get(endpoint.name, {}))
    if endpoint.pattern.name:
        return reverse(endpoint.name if ":" in endpoint.name else endpoint.pattern.name, kwargs=kwargs)
    path = endpoint.route
    for argument, value in kwargs.items():
        path = re.sub(rf"<(?:\w+:)?{argument}>", str(value), path)
    return "/" + path


def expected_admitted(endpoint: Endpoint, user, token) -> bool:
    capability = capability_of(endpoint)
    if capability is None:
        who = permissions.UNGUARDED_ENDPOINTS[endpoint.name][0]
        if who == "authenticated":  # a page needs a session, which a machine client never has
            return user is not None and (endpoint.api_class is not None or token is None)
        return True
    if endpoint.api_class is None and token is not None:
        return False  # a machine client has no session: pages do not know it
    if not permissions.may(user, capability):
        return False
    return permissions.token_may(token, getattr(endpoint.api_class, "scope", None))


def send(endpoint: Endpoint, path: str, user, token):
    if endpoint.api_class is not None:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user, token=token)
        methods = [
            method for method in ("get", "post", "put", "patch", "delete") if hasattr(endpoint.api_class, method)
        ]
        method = methods[0]
        return getattr(client, method)(path, {}, format="json") if method != "get" else client.get(path)
    from django.test import Client

    client = Client()
    if user is not None and token is None:
        client.force_login(user)
    response = client.get(path)
    if response.status_code == 405:
        response = client.post(path, {})
    return response


def refused(response, *, api: bool) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.get("Location", "") if response.status_code in (301, 302) else ""
    return not api and "/accounts/login/" in location and "next=" in location


@pytest.mark.django_db
@pytest.mark.parametrize("identity", IDENTITIES, indirect=True)
def test_each_url_admits_exactly_the_tables_holders(identity, publisher, nginx_node):
    user, token = identity
    wrong = []
    for endpoint in OURS:
        path = concrete_path(endpoint)
        if path is None:
            continue
        if capability_of(endpoint) is None and permissions.UNGUARDED_ENDPOINTS[endpoint.name][0] == "node":
            continue  # no session or token opens them; tests/moderation/test_gate_node_access.py
        admitted = expected_admitted(endpoint, user, token)
        if user is not None and not user.is_superuser and token is None and not has_role(user):
            admitted = admitted and capability_of(endpoint) is None
        response = send(endpoint, path, user, token)
        assert response.status_code < 500, (endpoint.route, response.status_code)
        if refused(response, api=endpoint.api_class is not None) == admitted:
            wrong.append(f"{endpoint.route}: {'refused' if admitted else 'admitted'} ({response.status_code})")
    assert wrong == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["anonymous", "patroller", "admin"])
def test_only_superusers_reach_the_admin(request, name, client):
    if name != "anonymous":
        client.force_login(request.getfixturevalue(name))
    for endpoint in ADMIN:
        path = concrete_path(endpoint)
        if path is None or endpoint.name in ("admin:login", "admin:logout"):
            continue
        response = client.get(path)
        assert response.status_code in (302, 404), (endpoint.route, response.status_code)
        if response.status_code == 302:
            assert "/admin/login/" in response["Location"], endpoint.route
    root = User.objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    assert client.get("/admin/").status_code == 200
