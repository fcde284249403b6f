"""Shared fixtures: named staff personas and a small publishing world, built through actions."""

from __future__ import annotations

from django.core.cache import cache

import pytest

from accounts.actions import create_staff_user, ensure_role_groups
from accounts.roles import Role
from console import consumers
from moderation import actions, credit_policy, cut_threads, emergency_scope, events, sensitive_terms
from moderation import licences as news_licences
from moderation.gate import asgi, faults, rules
from moderation.models import MediaServer, Publisher
from tests import second_factor

# The news world's fixtures (platform licence, licensed news publisher and key, approvals).
pytest_plugins = ["tests.news_world"]

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Staff log in all over the suite; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _staff_logins_pass_the_second_factor():
    # client.login / force_login: an enrolled authenticator and a verified session (tests/second_factor.py).
    with second_factor.verified_logins():
        yield


@pytest.fixture(scope="session", autouse=True)
def _event_sender_lets_go_of_the_database(django_db_setup):
    # moderation.events' sender thread reads cards; its connection must close before the test
    # database is dropped (PostgreSQL refuses to drop a database in use).
    yield
    consumers.shutdown()
    asgi.shutdown()
    cut_threads.shutdown()  # a cut still finishing may queue an event: the sender lets go after it
    actions.shutdown_title_checks()
    events.release_database()


@pytest.fixture(autouse=True)
def _fresh_process_state():
    rules.forget_cached_nodes()
    news_licences.forget_platform_licences()
    credit_policy.forget_cached_policy()
    faults.forget_outage()
    sensitive_terms.forget_matcher()
    emergency_scope.forget_cached()
    yield
    rules.forget_cached_nodes()
    news_licences.forget_platform_licences()
    credit_policy.forget_cached_policy()
    faults.forget_outage()
    sensitive_terms.forget_matcher()
    emergency_scope.forget_cached()


@pytest.fixture
def clear_cache():
    cache.clear()
    yield
    cache.clear()


def _staff(username: str, role: str, display_name: str):
    # A transactional test before this one (live server, WebSocket) may have flushed the groups.
    ensure_role_groups()
    return create_staff_user(username, role=role, password=PASSWORD, display_name=display_name)


@pytest.fixture
def patroller(db):
    return _staff("patroller", Role.PATROLLER, "巡查员小王")


@pytest.fixture
def news_reviewer(db):
    return _staff("reviewer", Role.NEWS_REVIEWER, "新闻审核员小李")


@pytest.fixture
def editor_in_chief(db):
    return _staff("editor", Role.EDITOR_IN_CHIEF, "总编辑老张")


@pytest.fixture
def admin(db):
    return _staff("admin", Role.COMPLIANCE_ADMIN, "合规管理员小赵")


@pytest.fixture
def inspector(db):
    return _staff("inspector", Role.INSPECTOR, "检查人员老陈")


@pytest.fixture
def outsider(db):
    from accounts.models import User

    return User.objects.create_user("outsider", password=PASSWORD)


@pytest.fixture
def agreement(db):
    return actions.publish_agreement("2026-01", title="直播服务协议及平台公约（2026版）")


@pytest.fixture
def entertainment(db):
    return actions.create_category("entertainment", name="娱乐", risk_tier=3)


@pytest.fixture
def news(db):
    return actions.create_category("news", name="新闻", is_news=True, risk_tier=1)


def make_publisher(account_id: str, name: str, *, agreement_version: str = "2026-01", verified: bool = True):
    publisher = actions.register_publisher(
        account_id,
        display_name=name,
        real_name="王小明",
        document_number="110105199001011234",
        phone="+8613800138000",
        agreement_version=agreement_version,
    )
    if verified:
        publisher = actions.set_publisher_verification(
            publisher, verification=Publisher.Verification.VERIFIED, actor=None
        )
    return publisher


@pytest.fixture
def publisher(agreement):
    return make_publisher("acct-1001", "美食小当家")


@pytest.fixture
def stream_key(publisher, entertainment):
    return actions.issue_stream_key(publisher, category=entertainment, default_title="深夜食堂直播")


NODE_SECRET = "node-secret-for-tests"


@pytest.fixture
def nginx_node(db):
    node, _secret = actions.register_media_server(
        "edge-1", kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/", secret=NODE_SECRET
    )
    return node


@pytest.fixture
def srs_node(db):
    node, _secret = actions.register_media_server(
        "srs-1", kind=MediaServer.Kind.SRS, control_url="http://127.0.0.1:9/", secret=NODE_SECRET
    )
    return node
