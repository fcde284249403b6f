"""Serializers of the REST API: what goes out (identity masked) and what platform clients may send."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation import credit_policy, text_input
from moderation.identity import (
    IdentityError,
    mask_document_number,
    mask_name,
    mask_phone,
    normalise_device,
    normalise_phone,
    normalise_resident_id,
)
from moderation.models import (
    Appeal,
    Category,
    CreditEvent,
    GateDecision,
    Publisher,
    ServiceAgreement,
    Stream,
    StreamKey,
)

_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_\-.:@]+")


class StreamSerializer(serializers.ModelSerializer):
    publisher = serializers.CharField(source="publisher.display_name")
    category = serializers.CharField(source="category.slug")
    node = serializers.CharField(source="node.name")

    class Meta:
        model = Stream
        fields = ["id", "title", "publisher", "category", "node", "app", "client_id", "viewers", "started_at"]


class StreamDetailSerializer(serializers.ModelSerializer):
    publisher_id = serializers.IntegerField()
    publisher = serializers.CharField(source="publisher.display_name")
    category = serializers.CharField(source="category.slug")
    node = serializers.CharField(source="node.name")
    is_live = serializers.BooleanField()
    last_patrolled_by = serializers.CharField(source="last_patrolled_by.username", default=None)

    class Meta:
        model = Stream
        fields = [
            "id", "title", "publisher_id", "publisher", "category", "node", "app", "client_id", "viewers",
            "started_at", "last_update_at", "ended_at", "end_reason", "is_live", "last_patrolled_at",
            "last_patrolled_by",
        ]  # fmt: skip


class PublisherSerializer(serializers.ModelSerializer):
    """A publisher with real-name identity masked; the raw values never leave through the API."""

    real_name = serializers.SerializerMethodField()
    credit_rules = serializers.SerializerMethodField(
        help_text="What the publisher's credit level allows; the platform enforces audience_cap."
    )
    document_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    organisation_licence_number = serializers.SerializerMethodField()

    class Meta:
        model = Publisher
        fields = [
            "id", "platform_account_id", "display_name", "kind", "real_name", "document_type", "document_number",
            "phone", "organisation_licence_number", "verification", "filing", "filing_category", "agreement_version",
            "agreement_accepted_at", "credit_score", "credit_level", "credit_rules", "status", "suspended_until",
            "closed_at", "created_at",
        ]  # fmt: skip

    def get_real_name(self, publisher: Publisher) -> str:
        return mask_name(publisher.real_name)

    @extend_schema_field(serializers.DictField())
    def get_credit_rules(self, publisher: Publisher) -> dict:
        return credit_rules(publisher)

    def get_document_number(self, publisher: Publisher) -> str:
        return mask_document_number(publisher.document_number, document_type=publisher.document_type)

    def get_phone(self, publisher: Publisher) -> str:
        return mask_phone(publisher.phone)

    def get_organisation_licence_number(self, publisher: Publisher) -> str:
        return mask_document_number(
            publisher.organisation_licence_number, document_type=Publisher.DocumentType.BUSINESS_LICENCE
        )


class GateDecisionSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node.name", default=None)
    key_hint = serializers.SerializerMethodField(help_text="The first characters of the key presented.")

    class Meta:
        model = GateDecision
        fields = [
            "id", "at", "hook", "node", "key_hint", "stream_key", "publisher", "stream", "client_id", "addr",
            "allowed", "reason", "detail",
        ]  # fmt: skip

    def get_key_hint(self, decision: GateDecision) -> str:
        return f"{decision.key_name[:6]}…" if decision.key_name else ""


class GateDecisionFilterSerializer(serializers.Serializer):
    stream_key = serializers.IntegerField(required=False, min_value=1, help_text="Stream key id.")
    allowed = serializers.BooleanField(required=False, allow_null=True, default=None)


def _text(max_length: int, *, required: bool = False, multiline: bool = False, **kwargs) -> serializers.CharField:
    """A text field from a platform client: trimmed, one line unless ``multiline`` (moderation/text_input.py)."""
    return serializers.CharField(
        max_length=max_length,
        required=required,
        allow_blank=not required,
        trim_whitespace=True,
        validators=[text_input.multiline if multiline else text_input.single_line],
        **kwargs,
    )


class PublisherRegistrationSerializer(serializers.Serializer):
    """What the platform's backend sends to register a publisher."""

    platform_account_id = _text(64, required=True)
    display_name = _text(100, required=True)
    kind = serializers.ChoiceField(choices=Publisher.Kind.choices, default=Publisher.Kind.PERSON)
    real_name = _text(100, default="")
    document_type = serializers.ChoiceField(
        choices=Publisher.DocumentType.choices, default=Publisher.DocumentType.RESIDENT_ID
    )
    document_number = _text(64, default="")
    phone = _text(32, default="")
    organisation_licence_number = _text(64, default="")
    agreement_version = _text(32, default="")

    def validate_platform_account_id(self, value: str) -> str:
        if not _ACCOUNT_ID.fullmatch(value):
            raise serializers.ValidationError("Use letters, digits and _ - . : @ only.")
        return value

    def validate_phone(self, value: str) -> str:
        """Keep the number in E.164 (+86 when no country code is given), the form the blacklist hashes."""
        if not value:
            return value
        try:
            return normalise_phone(value)
        except IdentityError as exc:
            raise serializers.ValidationError(_sentence(exc)) from None

    def validate(self, data: dict) -> dict:
        number = data.get("document_number", "")
        if number and data.get("document_type") == Publisher.DocumentType.RESIDENT_ID:
            try:
                data["document_number"] = normalise_resident_id(number)
            except IdentityError as exc:
                raise serializers.ValidationError({"document_number": [_sentence(exc)]}) from None
        return data

    def validate_agreement_version(self, value: str) -> str:
        if value and not ServiceAgreement.objects.filter(version=value).exists():
            raise serializers.ValidationError("Unknown agreement version.")
        return value


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:] + "."


class DeviceReportSerializer(serializers.Serializer):
    """A device the platform saw a publisher use (IMEI, IDFA, Android id …)."""

    device_id = _text(128, required=True)

    def validate_device_id(self, value: str) -> str:
        try:
            return normalise_device(value)
        except IdentityError as exc:
            raise serializers.ValidationError(_sentence(exc)) from None


class RegistrationCheckSerializer(serializers.Serializer):
    """The registration check's body (for the schema; moderation.blacklist_matching.check_pairs validates it)."""

    id_number = _text(140, help_text="Identity document number (resident ID unless document_type says otherwise).")
    document_type = serializers.ChoiceField(choices=Publisher.DocumentType.choices, required=False)
    phone = _text(140, help_text="Mobile number; +86 when it has no country code.")
    device_id = _text(140)
    platform_account_id = _text(140)


class RegistrationCheckAnswerSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    reference = serializers.CharField(required=False, help_text="The blacklist entry's reference, when refused.")


class StreamKeyRequestSerializer(serializers.Serializer):
    category = serializers.SlugField(max_length=32, help_text="Category slug.")
    default_title = _text(200, default="")

    def validate_category(self, value: str) -> Category:
        category = Category.objects.filter(slug=value).first()
        if category is None:
            raise serializers.ValidationError("Unknown category.")
        return category


class IssuedStreamKeySerializer(serializers.ModelSerializer):
    """A newly issued key; the only answer that ever carries the key itself (only its hash is stored)."""

    key = serializers.CharField(source="issued_key", read_only=True)
    category = serializers.CharField(source="category.slug")
    publisher = serializers.CharField(source="publisher.platform_account_id")

    class Meta:
        model = StreamKey
        fields = ["id", "key", "publisher", "category", "default_title", "status", "created_at"]


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    time = serializers.DateTimeField()
    client = serializers.CharField()


def credit_rules(publisher: Publisher) -> dict:
    """The rules of the publisher's credit level, as the platform needs them (it enforces the audience cap)."""
    level = credit_policy.level_rules(publisher)
    return {
        "level": level.code,
        "may_broadcast": level.may_broadcast,
        "allowed_categories": sorted(level.allowed_categories) or None,
        "requires_pre_review": level.requires_pre_review,
        "audience_cap": level.audience_cap,
        "policy_version": credit_policy.current_policy().version,
    }


class CreditEventSerializer(serializers.ModelSerializer):
    action_kind = serializers.CharField(source="action.kind", default=None)
    reversed = serializers.SerializerMethodField()
    appealable = serializers.SerializerMethodField()

    class Meta:
        model = CreditEvent
        fields = [
            "id", "at", "kind", "points", "score_after", "level_after", "reason", "action", "action_kind",
            "policy_version", "reversed", "appealable",
        ]  # fmt: skip

    def get_reversed(self, event: CreditEvent) -> bool:
        return event.reversed_by_id is not None

    def get_appealable(self, event: CreditEvent) -> bool:
        return (
            event.kind in (CreditEvent.Kind.ACTION, CreditEvent.Kind.MANUAL)
            and event.points < 0
            and event.reversed_by_id is None
        )


class PublisherCreditSerializer(serializers.ModelSerializer):
    """A publisher's credit: score, level, the level's rules and the latest events (no identity data)."""

    credit_rules = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta:
        model = Publisher
        fields = ["id", "platform_account_id", "credit_score", "credit_level", "credit_rules", "events"]

    @extend_schema_field(serializers.DictField())
    def get_credit_rules(self, publisher: Publisher) -> dict:
        return credit_rules(publisher)

    @extend_schema_field(CreditEventSerializer(many=True))
    def get_events(self, publisher: Publisher) -> list:
        events = publisher.credit_events.select_related("action").order_by("-at", "-id")[:50]
        return CreditEventSerializer(events, many=True).data


class AppealSubmissionSerializer(serializers.Serializer):
    """What the platform sends to appeal a credit event (or, once wired, a blacklisting)."""

    kind = serializers.ChoiceField(choices=Appeal.Kind.choices)
    target = serializers.IntegerField(min_value=1, help_text="The credit event's (or blacklisting's) id.")
    publisher = _text(64, required=True, help_text="The publisher's platform_account_id.")
    statement = _text(4000, required=True, multiline=True)
    reference = _text(64, default="", help_text="The platform's own id for the appeal, echoed in the webhook.")


class AppealSerializer(serializers.ModelSerializer):
    publisher = serializers.CharField(source="publisher.platform_account_id")
    target = serializers.IntegerField(source="target_id")
    reference = serializers.CharField(source="platform_reference")

    class Meta:
        model = Appeal
        fields = [
            "id", "kind", "target", "publisher", "statement", "reference", "submitted_at", "status", "decided_at",
            "decision_note",
        ]  # fmt: skip
