"""Snapshots pushed by an external capture or machine-review service (``review_service`` token)."""

from __future__ import annotations

import base64
import binascii
import io
from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Scope
from moderation import actions
from moderation.actions.snapshots import MAX_IMAGE_BYTES, VERDICT_LABEL_MAX, image_extension
from moderation.api.parsers import JSONParser
from moderation.models import Snapshot, Stream
from moderation.permissions import HasCapability
from moderation.queries.payloads import snapshot_url
from moderation.text_input import multiline, single_line

# Base64 of MAX_IMAGE_BYTES, plus slack for line breaks; anything longer is refused undecoded.
MAX_BASE64_CHARS = (MAX_IMAGE_BYTES + 2) // 3 * 4 + 4096
# A body larger than this cannot hold a valid push; refuse it before parsing.
MAX_BODY_BYTES = MAX_BASE64_CHARS + 16 * 1024
# Clocks differ a little; a frame from further in the future is a client bug.
FUTURE_SLACK = timedelta(minutes=5)


class StreamNotLive(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The stream is not live."
    default_code = "stream_not_live"


class BodyTooLarge(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = f"The request body is larger than {MAX_BODY_BYTES} bytes."
    default_code = "too_large"


class SnapshotJSONParser(BaseParser):
    """JSON with this endpoint's own size limit, above the site-wide one (a 2 MB image in base64)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        # Not a JSONParser: DRF hands those request.body, which enforces DATA_UPLOAD_MAX_MEMORY_SIZE.
        body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge
        return JSONParser().parse(io.BytesIO(body), media_type, parser_context)


class VerdictSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=VERDICT_LABEL_MAX, trim_whitespace=True, validators=[single_line])
    score = serializers.FloatField(min_value=0.0, max_value=1.0)
    suggestion = serializers.ChoiceField(
        choices=[s for s in Snapshot.Suggestion.values if s], required=False, default=Snapshot.Suggestion.NONE
    )


class SnapshotPushSerializer(serializers.Serializer):
    image_base64 = serializers.CharField(
        required=False,
        trim_whitespace=True,
        max_length=MAX_BASE64_CHARS,
        help_text="JPEG or PNG, at most 2 MB.",
        validators=[multiline],
    )
    taken_at = serializers.DateTimeField(required=False, help_text="When the frame was taken; default now.")
    verdict = VerdictSerializer(required=False)

    def validate_image_base64(self, value: str) -> bytes:
        try:
            image = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not valid base64.") from None
        if len(image) > MAX_IMAGE_BYTES:
            raise serializers.ValidationError(f"The image is larger than {MAX_IMAGE_BYTES} bytes.")
        if image_extension(image) is None:
            raise serializers.ValidationError("Not a JPEG or PNG image.")
        return image

    def validate_taken_at(self, value):
        if value > timezone.now() + FUTURE_SLACK:
            raise serializers.ValidationError("In the future.")
        return value

    def validate(self, data: dict) -> dict:
        if "image_base64" not in data and "verdict" not in data:
            raise serializers.ValidationError("Send image_base64, verdict or both.")
        return data


class PushedSnapshotSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()
    stream_review_flag = serializers.CharField(source="stream.review_flag")
    stream_review_score = serializers.FloatField(source="stream.review_score", allow_null=True)
    auto_blocked = serializers.SerializerMethodField()

    class Meta:
        model = Snapshot
        fields = [
            "id", "stream", "taken_at", "source", "sha256", "image_url", "verdict_label", "verdict_score",
            "verdict_suggestion", "stream_review_flag", "stream_review_score", "auto_blocked",
        ]  # fmt: skip

    def get_image_url(self, snapshot: Snapshot) -> str | None:
        return snapshot_url(snapshot)

    def get_auto_blocked(self, snapshot: Snapshot) -> bool:
        return getattr(snapshot, "auto_block", None) is not None


class StreamSnapshotPush(APIView):
    """Record a frame of a live stream and/or a machine-review verdict on it (review service token)."""

    permission_classes = [HasCapability]
    capability = "api.review_service"
    scope = Scope.SNAPSHOTS
    parser_classes = [SnapshotJSONParser]

    @extend_schema(request=SnapshotPushSerializer, responses={201: PushedSnapshotSerializer})
    def post(self, request, pk: int):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            raise BodyTooLarge
        stream = get_object_or_404(Stream.objects.select_related("node", "key"), pk=pk)
        if not stream.is_live:
            raise StreamNotLive
        data = SnapshotPushSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        verdict = data.validated_data.get("verdict")
        snapshot = actions.record_snapshot(
            stream,
            image_bytes=data.validated_data.get("image_base64"),
            source=Snapshot.Source.EXTERNAL,
            verdict=actions.Verdict(**verdict) if verdict else None,
            taken_at=data.validated_data.get("taken_at"),
            actor=request.user,
        )
        return Response(PushedSnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)
