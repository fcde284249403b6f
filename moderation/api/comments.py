"""The platform's comment ingest (Art. 11): a batch of comments in, each one's verdict out at once.

Items are checked by hand rather than by a DRF serializer each: a thousand serializers cost more than
the rest of the request. A request that is not a batch is a 400; an item that is refused gets its own
error in the answer while the rest of the batch is stored.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import renderers, serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Scope
from moderation import actions, queries, text_input
from moderation.api.errors import ERROR_STATUS
from moderation.api.parsers import BatchJSONParser
from moderation.api.renderers import BatchJSONRenderer
from moderation.errors import ModerationError
from moderation.models import ReasonCode, Stream, ViewerMute
from moderation.permissions import HasCapability

_FIELDS = frozenset({"stream", "id", "viewer_id", "viewer_phone_verified", "text", "posted_at"})


class BatchTooLarge(ParseError):
    default_code = "batch_too_large"


def _item(raw) -> actions.IncomingComment | ModerationError:
    """Turn one element of the batch into an IncomingComment, or say what is wrong with it."""
    if not isinstance(raw, dict):
        return ModerationError("each comment is a JSON object", code="bad_field")
    if not _FIELDS.issuperset(raw):
        unknown = set(raw) - _FIELDS
        return ModerationError(f"unknown field {sorted(unknown)[0][:40]!r}", code="bad_field")
    stream = raw.get("stream")
    if not isinstance(stream, int) or isinstance(stream, bool) or stream < 1:
        return ModerationError("stream must be a stream id", code="bad_field")
    for name in ("id", "viewer_id", "text"):
        if not isinstance(raw.get(name), str):
            return ModerationError(f"{name} must be a string", code="bad_field")
    verified = raw.get("viewer_phone_verified", False)
    if not isinstance(verified, bool):
        return ModerationError("viewer_phone_verified must be true or false", code="bad_field")
    posted_at = raw.get("posted_at")
    if posted_at is not None:
        posted_at = _moment(posted_at)
        if posted_at is None:
            return ModerationError("posted_at must be an ISO 8601 date and time", code="bad_field")
    return actions.IncomingComment(
        stream_id=stream,
        external_id=raw["id"],
        viewer_id=raw["viewer_id"],
        text=raw["text"],
        viewer_phone_verified=verified,
        posted_at=posted_at,
    )


def _moment(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def _error(external_id: str, error: ModerationError) -> dict:
    return {
        "id": text_input.for_export(external_id),
        "status": ERROR_STATUS.get(error.code, 409),
        "verdict": None,
        "error": {"code": error.code, "message": str(error)},
    }


def _answer(result: actions.Received) -> dict:
    stored = result.stored
    return {
        "id": result.external_id,
        "status": 200 if result.replayed else 201,
        "verdict": actions.verdict_of(stored),
        "comment": stored.pk,
        "reason": stored.block_reason or stored.hold_reason,
        "terms": stored.matched_terms,
        "flagged": stored.flagged,
        "replayed": result.replayed,
    }


_RESULT = inline_serializer(
    "CommentVerdict",
    {
        "id": serializers.CharField(),
        "status": serializers.IntegerField(help_text="201 stored now, 200 seen before, 4xx refused."),
        "verdict": serializers.ChoiceField(choices=["publish", "hold", "block"], allow_null=True),
        "comment": serializers.IntegerField(required=False),
        "reason": serializers.CharField(required=False, help_text="Why it is held or blocked."),
        "terms": serializers.ListField(child=serializers.DictField(), required=False),
        "flagged": serializers.BooleanField(required=False),
        "replayed": serializers.BooleanField(required=False),
        "error": serializers.DictField(required=False),
    },
)


class CommentBatch(APIView):
    """Push a batch of comments; the answer gives each one's verdict (publish, hold, block) at once.

    Platform backend token. Up to LIVEWARD_COMMENT_BATCH_MAX (1,000) comments; results come in the
    order sent. An id seen before returns its first verdict with status 200.
    """

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.COMMENTS
    parser_classes = [BatchJSONParser]
    renderer_classes = [BatchJSONRenderer, renderers.BrowsableAPIRenderer]

    @extend_schema(
        request=inline_serializer(
            "CommentBatchRequest",
            {
                "comments": serializers.ListField(
                    child=inline_serializer(
                        "CommentBatchItem",
                        {
                            "stream": serializers.IntegerField(),
                            "id": serializers.CharField(max_length=64),
                            "viewer_id": serializers.CharField(max_length=64),
                            "viewer_phone_verified": serializers.BooleanField(default=False),
                            "text": serializers.CharField(max_length=2000),
                            "posted_at": serializers.DateTimeField(required=False),
                        },
                    )
                )
            },
        ),
        responses={200: inline_serializer("CommentBatchAnswer", {"results": serializers.ListField(child=_RESULT)})},
        examples=[
            OpenApiExample(
                "One comment",
                value={
                    "comments": [
                        {"stream": 7, "id": "c-1", "viewer_id": "v-1", "text": "主播好", "viewer_phone_verified": True}
                    ]
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("comments"), list):
            raise ParseError("The body is a JSON object with a list 'comments'.")
        raw_items = data["comments"]
        limit = settings.LIVEWARD_COMMENT_BATCH_MAX
        if not raw_items:
            raise ParseError("The batch is empty.")
        if len(raw_items) > limit:
            raise BatchTooLarge(f"A batch holds at most {limit} comments; this one has {len(raw_items)}.")
        parsed = [_item(raw) for raw in raw_items]
        good = [item for item in parsed if isinstance(item, actions.IncomingComment)]
        received = iter(actions.receive_comments(good, actor=request.user))
        results = []
        for raw, item in zip(raw_items, parsed, strict=True):
            if isinstance(item, ModerationError):
                external_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else ""
                results.append(_error(external_id[:64], item))
                continue
            result = next(received)
            results.append(_error(result.external_id[:64], result.error) if result.error else _answer(result))
        return Response({"results": results}, status=status.HTTP_200_OK)


class DecidedComments(APIView):
    """List comments staff released, rejected or removed since a time, in decision order (platform token).

    The platform's way to pull decisions instead of (or besides) the ``comments.decided`` webhook:
    pass the last ``decided_at`` seen as ``since``; a comment at exactly that time comes again, so
    de-duplicate by id. At most 500 a page.
    """

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.COMMENTS

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, required=True, description="ISO 8601 time: decisions at or after it."),
        ],
        responses={
            200: inline_serializer(
                "DecidedComments",
                {
                    "comments": serializers.ListField(child=serializers.DictField()),
                    "next_since": serializers.CharField(allow_null=True),
                },
            )
        },
    )
    def get(self, request):
        since = _moment(request.query_params.get("since", ""))
        if since is None:
            raise ParseError("since must be an ISO 8601 date and time.")
        decided = list(queries.decided_comments(since=since))
        return Response(
            {
                "comments": [
                    {
                        "comment": comment.external_id,
                        "stream": comment.stream_id,
                        "status": comment.status,
                        "decided_at": comment.decided_at,
                    }
                    for comment in decided
                ],
                "next_since": decided[-1].decided_at if decided else None,
            }
        )


class MuteRequestSerializer(serializers.Serializer):
    viewer_id = serializers.CharField(max_length=64, validators=[text_input.single_line])
    stream = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None,
                                      help_text="The stream; leave out to mute everywhere.")  # fmt: skip
    minutes = serializers.IntegerField(min_value=1, max_value=actions.MUTE_MAX_MINUTES)
    reason = serializers.ChoiceField(choices=[value for value in ReasonCode.values if value != ReasonCode.PATROLLED])
    note = serializers.CharField(max_length=300, required=False, default="", allow_blank=True,
                                 validators=[text_input.multiline])  # fmt: skip


class MuteSerializer(serializers.ModelSerializer):
    muted_by = serializers.CharField(source="muted_by.username")

    class Meta:
        model = ViewerMute
        fields = ["id", "viewer_id", "stream", "until", "reason", "note", "muted_by", "muted_at", "lifted_at"]


class ViewerMutes(APIView):
    """Mute a viewer on a stream or everywhere for a period (staff holding ``viewer.measure``); list mutes in force."""

    permission_classes = [HasCapability]
    capability = "viewer.measure"

    @extend_schema(responses={200: MuteSerializer(many=True)})
    def get(self, request):
        return Response(MuteSerializer(queries.active_mutes()[:500], many=True).data)

    @extend_schema(request=MuteRequestSerializer, responses={201: MuteSerializer})
    def post(self, request):
        data = MuteRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        stream = get_object_or_404(Stream, pk=fields["stream"]) if fields["stream"] else None
        mute = actions.mute_viewer(
            fields["viewer_id"],
            stream=stream,
            minutes=fields["minutes"],
            reason=fields["reason"],
            note=fields["note"],
            actor=request.user,
        )
        return Response(MuteSerializer(mute).data, status=status.HTTP_201_CREATED)


class LiftRequestSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, validators=[text_input.multiline], help_text="Why it is lifted.")


class ViewerMuteLift(APIView):
    """Lift a mute before its time, with a reason."""

    permission_classes = [HasCapability]
    capability = "viewer.measure"

    @extend_schema(request=LiftRequestSerializer, responses={200: MuteSerializer})
    def post(self, request, pk: int):
        mute = get_object_or_404(ViewerMute, pk=pk)
        data = LiftRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mute = actions.unmute_viewer(mute, note=data.validated_data["note"], actor=request.user)
        return Response(MuteSerializer(mute).data)


class RemovalRequestSerializer(serializers.Serializer):
    viewer_id = serializers.CharField(max_length=64, validators=[text_input.single_line])
    stream = serializers.IntegerField(min_value=1)
    minutes = serializers.IntegerField(min_value=1, max_value=actions.DELETE_WINDOW_MAX_MINUTES, default=60)
    reason = serializers.ChoiceField(choices=[value for value in ReasonCode.values if value != ReasonCode.PATROLLED])
    note = serializers.CharField(max_length=300, required=False, default="", allow_blank=True,
                                 validators=[text_input.multiline])  # fmt: skip


class CommentRemovals(APIView):
    """Delete a viewer's comments on a stream from the last minutes (the platform takes them down)."""

    permission_classes = [HasCapability]
    capability = "viewer.measure"

    @extend_schema(
        request=RemovalRequestSerializer,
        responses={
            200: inline_serializer("CommentRemoval", {"removed": serializers.ListField(child=serializers.CharField())})
        },
    )
    def post(self, request):
        data = RemovalRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        removed = actions.delete_recent_comments(
            fields["viewer_id"],
            stream=get_object_or_404(Stream, pk=fields["stream"]),
            minutes=fields["minutes"],
            reason=fields["reason"],
            note=fields["note"],
            actor=request.user,
        )
        return Response({"removed": [comment.external_id for comment in removed]})
