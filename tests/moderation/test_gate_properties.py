"""A property of the ingest gate (hypothesis): no input opens it for a publisher any rule denies.

Each example builds a world through actions (a publisher in a generated state, its key, and a clean
publisher beside it), sends one generated callback through the protocol both fronts use
(moderation/gate/protocols.py: nginx-rtmp form or SRS JSON), and rolls the world back.

What must hold: a publish is allowed only for a key named exactly, whose publisher neither an
oracle written from the generated state (closed, blacklisted, suspended, unverified, not on the
current agreement, a credit level that may not broadcast or needs pre-review, a revoked or cooling
key, news without approval) nor any single rule of ``PUBLISH_RULES`` denies. And, so the property
cannot pass by denying everything: a well-formed publish of a clean world's exact key is allowed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.db import transaction
from django.utils import timezone

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from moderation import actions, credit_policy, licences
from moderation.gate import key_lookup, protocols, rules
from moderation.identity import Kind
from moderation.models import Publisher, ReasonCode, ServiceAgreement, Stream, StreamKey, hash_stream_key
from tests.conftest import NODE_SECRET

pytestmark = pytest.mark.django_db

# Any code point: controls, lone surrogates, CJK, emoji.
ODD_TEXT = st.text(alphabet=st.characters(codec=None, categories=None), max_size=12)
ODD_SUFFIXES = ["\n", "\r\n", "\x00", " ", "\t", "\u3000", "\ufeff", "%00", "/", "?x=1"]


@dataclass(frozen=True)
class World:
    closed: bool
    blacklisted: str  # "", "entry" (closes the account), "entry_reopened" (account reopened, entry in force)
    suspended: bool
    verification: str
    agreement: str  # current, old, none
    points_taken: int
    key_revoked: bool
    cooling: str  # "", "over", "running"
    news: bool

    @property
    def leaves_a_session_live(self) -> bool:
        """A block's cut is still pending here (no node to drop it), so a new publish meets a live session."""
        return bool(self.cooling)

    def denies(self) -> bool:
        """What the regulation says, from the state alone: must this publisher be kept off air?"""
        score = 100 - self.points_taken
        return (
            self.closed
            or bool(self.blacklisted)
            or self.suspended
            or self.verification != Publisher.Verification.VERIFIED
            or self.agreement != "current"
            or score < 60  # the default policy: D needs pre-review (none approved here), E may not broadcast
            or self.key_revoked
            or self.cooling == "running"
            or self.news  # no licence and no approved application in this world
        )


def mostly(usual, *unusual):
    """Draw ``usual`` three times in four, else one of the unusual values or strategies."""
    values = [value for value in unusual if not isinstance(value, st.SearchStrategy)]
    strategies = [value for value in unusual if isinstance(value, st.SearchStrategy)]
    rare = st.one_of(*([st.sampled_from(values)] if values else []), *strategies)
    return st.sampled_from([True, True, True, False]).flatmap(lambda common: st.just(usual) if common else rare)


CLEAN = World(
    closed=False,
    blacklisted="",
    suspended=False,
    verification=Publisher.Verification.VERIFIED,
    agreement="current",
    points_taken=0,
    key_revoked=False,
    cooling="",
    news=False,
)
# One change from the clean world; some deny (a closed account), some do not (a cooling-off that is over).
CHANGES = [
    {"closed": True},
    {"blacklisted": "entry"},
    {"blacklisted": "entry_reopened"},
    {"suspended": True},
    {"verification": Publisher.Verification.PENDING},
    {"verification": Publisher.Verification.REJECTED},
    {"agreement": "old"},
    {"agreement": "none"},
    *({"points_taken": points} for points in (10, 39, 40, 41, 60, 100)),
    {"key_revoked": True},
    {"cooling": "over"},
    {"cooling": "running"},
    {"news": True},
]
# The clean world, one change, or any mixture of them.
worlds = st.one_of(
    st.just(CLEAN),
    st.sampled_from(CHANGES).map(lambda change: replace(CLEAN, **change)),
    st.builds(
        World,
        closed=st.booleans(),
        blacklisted=st.sampled_from(["", "entry", "entry_reopened"]),
        suspended=st.booleans(),
        verification=st.sampled_from(Publisher.Verification.values),
        agreement=st.sampled_from(["current", "old", "none"]),
        points_taken=st.sampled_from([0, 10, 39, 40, 41, 60, 61, 100]),
        key_revoked=st.booleans(),
        cooling=st.sampled_from(["", "over", "running"]),
        news=st.booleans(),
    ),
)


@dataclass(frozen=True)
class Callback:
    kind: str  # nginx or srs
    key: str  # "target", "clean", or any other text sent as it is
    mangle: str  # how the key is changed on the way
    app: str
    client_id: str
    title: str


callbacks = st.builds(
    Callback,
    kind=st.sampled_from(["nginx", "srs"]),
    key=mostly("target", "clean", ODD_TEXT),
    mangle=mostly("", "upper", "prefix", "drop_last", *ODD_SUFFIXES),
    app=mostly("live", ODD_TEXT),
    client_id=mostly("c0ffee42", st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True), ODD_TEXT),
    title=mostly("今晚直播", "", ODD_TEXT),
)


def key_name(callback: Callback, target: StreamKey, clean: StreamKey) -> str:
    base = {"target": target.issued_key, "clean": clean.issued_key}.get(callback.key, callback.key)
    if callback.mangle == "upper":
        return base.swapcase()
    if callback.mangle == "prefix":
        return " " + base
    if callback.mangle == "drop_last":
        return base[:-1]
    return base + callback.mangle


def build_world(world: World, *, admin, entertainment, news_category, nginx_node) -> StreamKey:
    """The generated publisher and key, set up through actions (as staff and the platform would)."""
    if world.agreement == "old":
        actions.publish_agreement("2026-06", title="直播服务协议（2026年6月版）")  # in force now, not accepted
    publisher = actions.register_publisher(
        "acct-prop",
        display_name="被测主播",
        phone="+8613955556666",
        agreement_version="" if world.agreement == "none" else "2026-01",
    )
    publisher = actions.set_publisher_verification(publisher, verification=world.verification, actor=admin)
    if world.points_taken:
        actions.adjust_credit(publisher, actor=admin, points=-world.points_taken, reason="属性测试")
    key = actions.issue_stream_key(publisher, category=news_category if world.news else entertainment)
    live = {"node": nginx_node, "app": "live", "addr": "", "title": ""}
    if world.suspended:
        stream = actions.open_stream(key, published_name=key.issued_key, client_id="before-1", **live)
        actions.suspend_publisher(stream, actor=admin, reason=ReasonCode.RUMOUR, minutes=30)
        actions.end_stream_session(
            node=nginx_node, client_id="before-1", key_name=key.issued_key
        )  # the node dropped it
    if world.cooling:
        stream = actions.open_stream(key, published_name=key.issued_key, client_id="before-2", **live)
        minutes = 0 if world.cooling == "over" else 60
        actions.block_stream(stream, actor=admin, reason=ReasonCode.RUMOUR, cooling_off_minutes=minutes)
    if world.blacklisted:
        actions.add_blacklist_entry(Kind.PHONE, "+8613955556666", actor=admin, reason=ReasonCode.FRAUD)
        if world.blacklisted == "entry_reopened":
            actions.reopen_publisher(Publisher.objects.get(pk=publisher.pk), actor=admin, note="误关，重新开通")
    if world.closed and Publisher.objects.get(pk=publisher.pk).status != Publisher.Status.CLOSED:
        actions.close_publisher_account(publisher, actor=admin, reason=ReasonCode.FRAUD)
    if world.key_revoked:
        actions.revoke_stream_key(key, actor=admin)
    fresh = StreamKey.objects.get(pk=key.pk)
    fresh.issued_key = key.issued_key  # the database keeps only its hash
    return fresh


def current_agreement() -> str:
    return ServiceAgreement.objects.order_by("-effective_at").values_list("version", flat=True).first()


def send(callback: Callback, name: str, *, nginx_node, srs_node) -> bool:
    """Send the callback through the protocol; tell whether the gate allowed the publish."""
    if callback.kind == "nginx":
        form = {"app": callback.app, "name": name, "clientid": callback.client_id, "call": "publish"}
        if callback.title:
            form["title"] = callback.title
        body = urlencode(form, encoding="utf-8", errors="surrogatepass").encode()
        reply = protocols.nginx_callback(nginx_node.name, NODE_SECRET, "on_publish", body, "203.0.113.9")
        return reply.status == 200
    body = {"action": "on_publish", "client_id": callback.client_id, "ip": "198.51.100.7", "app": callback.app}
    body |= {"stream": name, "param": urlencode({"title": callback.title}, errors="surrogatepass")}
    reply = protocols.srs_callback(srs_node.name, NODE_SECRET, json.dumps(body).encode(), "198.51.100.7")
    return reply.status == 200 and json.loads(reply.body) == {"code": 0}


WELL_FORMED = {
    kind: Callback(kind=kind, key="target", mangle="", app="live", client_id="c0ffee42", title="今晚直播")
    for kind in ("nginx", "srs")
}


def with_every_single_change(test):
    """Run the clean world and each single change with a well-formed callback of each kind, before the random ones."""
    for kind in ("nginx", "srs"):
        for change in [{}, *CHANGES]:
            test = example(world=replace(CLEAN, **change), callback=WELL_FORMED[kind])(test)
    return test


def some_rule_denies(stream_key: StreamKey) -> bool:
    """Ask every rule of PUBLISH_RULES on its own, with the key as the plain queryset loads it."""
    now = timezone.now()
    loaded = key_lookup.key_queryset(hash_stream_key(stream_key.issued_key), now).get()
    request = rules.PublishRequest(node=None, key_name=stream_key.issued_key, app="live", client_id="x")
    context = rules.GateContext(request=request, key=loaded, now=now)
    return any(rule(context) is not None for rule in rules.PUBLISH_RULES)


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds, callback=callbacks)
@with_every_single_change
def test_no_input_opens_the_gate_for_a_publisher_any_rule_denies(
    admin, agreement, entertainment, news, nginx_node, srs_node, world, callback
):
    with transaction.atomic():
        credit_policy.forget_cached_policy()
        licences.forget_platform_licences()
        assert credit_policy.current_policy().version == 0  # the thresholds World.denies assumes
        target = build_world(world, admin=admin, entertainment=entertainment, news_category=news, nginx_node=nginx_node)
        clean = actions.issue_stream_key(
            actions.set_publisher_verification(
                actions.register_publisher(
                    "acct-clean", display_name="守法主播", agreement_version=current_agreement()
                ),
                verification=Publisher.Verification.VERIFIED,
                actor=admin,
            ),
            category=entertainment,
        )
        name = key_name(callback, target, clean)
        before = set(Stream.objects.values_list("pk", flat=True))

        allowed = send(callback, name, nginx_node=nginx_node, srs_node=srs_node)

        opened = list(Stream.objects.exclude(pk__in=before).select_related("key"))
        assert len(opened) == (1 if allowed else 0)
        if allowed:
            stream_key = opened[0].key
            assert stream_key.key_hash == hash_stream_key(name), "only a key named exactly may open"
            assert opened[0].published_name == name
            assert stream_key.pk in {target.pk, clean.pk}
            if stream_key.pk == target.pk:
                assert not world.denies(), world
                assert not some_rule_denies(target), world
        well_formed = (
            callback.mangle == ""
            and callback.app == "live"
            and re.fullmatch(r"[A-Za-z0-9]{1,12}", callback.client_id)
            and callback.title in {"", "今晚直播"}
        )
        if well_formed and callback.key == "clean":
            assert allowed, "a clean world's exact key must be allowed"
        if well_formed and callback.key == "target" and not world.denies() and not world.leaves_a_session_live:
            assert allowed, world
        event(f"allowed={allowed} target_denied={world.denies()}")
        transaction.set_rollback(True)
