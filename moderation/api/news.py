"""News applications, publisher licences and comments, pushed by the platform's backend (docs/news.md)."""

from __future__ import annotations

import base64
import binascii

from django.shortcuts import get_object_or_404

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Scope
from moderation import actions, permissions
from moderation.models import Comment, LicenceScope, NewsApplication, Publisher, PublisherLicence, Stream, StreamKey
from moderation.permissions import HasCapability
from moderation.text_input import multiline, single_line


class SourceSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, trim_whitespace=True, validators=[single_line])
    url = serializers.URLField(max_length=500)

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Give an http or https URL.")
        return value


class NewsApplicationRequestSerializer(serializers.Serializer):
    """What the platform sends to apply for a news live stream on a publisher's behalf."""

    stream_key = serializers.IntegerField(min_value=1, help_text="Id of the publisher's news stream key.")
    title = serializers.CharField(max_length=200, trim_whitespace=True, validators=[single_line])
    outline = serializers.CharField(max_length=5000, trim_whitespace=True, validators=[multiline])
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    origin = serializers.ChoiceField(choices=NewsApplication.Origin.choices)
    sources = SourceSerializer(many=True, required=False, default=list)

    def validate(self, data: dict) -> dict:
        if data["window_end"] <= data["window_start"]:
            raise serializers.ValidationError({"window_end": "The window must end after it starts."})
        if data["origin"] == NewsApplication.Origin.REPOSTED and not data["sources"]:
            raise serializers.ValidationError({"sources": "Reposted news needs each source's name and URL."})
        return data


class NewsApplicationSerializer(serializers.ModelSerializer):
    publisher = serializers.CharField(source="publisher.platform_account_id")
    sources = serializers.SerializerMethodField()
    decisions = serializers.SerializerMethodField()

    class Meta:
        model = NewsApplication
        fields = [
            "id", "publisher", "stream_key", "title", "outline", "window_start", "window_end", "origin", "status",
            "submitted_at", "updated_at", "sources", "decisions",
        ]  # fmt: skip

    def get_sources(self, application: NewsApplication) -> list[dict]:
        return [{"name": source.name, "url": source.url} for source in application.sources.all()]

    def get_decisions(self, application: NewsApplication) -> list[dict]:
        return [
            {"kind": decision.kind, "status": decision.to_status, "note": decision.note, "at": decision.at}
            for decision in application.decisions.all()
        ]


def _application(pk: int, user) -> NewsApplication:
    """The application, if this client submitted it (404 for another client's: not even its existence)."""
    applications = NewsApplication.objects.select_related("publisher").prefetch_related("sources", "decisions")
    return get_object_or_404(permissions.client_objects(applications, user), pk=pk)


class NewsApplicationSubmit(APIView):
    """Submit a news live-stream application for a publisher (platform backend token)."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.NEWS_APPLICATIONS

    @extend_schema(request=NewsApplicationRequestSerializer, responses={201: NewsApplicationSerializer})
    def post(self, request, account_id: str):
        publisher = get_object_or_404(Publisher, platform_account_id=account_id)
        data = NewsApplicationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        stream_key = StreamKey.objects.filter(pk=fields["stream_key"], publisher=publisher).first()
        if stream_key is None:
            raise serializers.ValidationError({"stream_key": ["This publisher has no such stream key."]})
        application = actions.submit_news_application(
            publisher,
            stream_key=stream_key,
            title=fields["title"],
            outline=fields["outline"],
            window_start=fields["window_start"],
            window_end=fields["window_end"],
            origin=fields["origin"],
            sources=[(source["name"], source["url"]) for source in fields["sources"]],
            actor=request.user,
        )
        return Response(
            NewsApplicationSerializer(_application(application.pk, request.user)).data, status=status.HTTP_201_CREATED
        )


class NewsApplicationDetail(APIView):
    """Read an application's status and decisions (platform backend token)."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.NEWS_APPLICATIONS

    @extend_schema(responses={200: NewsApplicationSerializer})
    def get(self, request, pk: int):
        return Response(NewsApplicationSerializer(_application(pk, request.user)).data)


class WithdrawSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="", validators=[multiline])


class NewsApplicationWithdraw(APIView):
    """Withdraw an application on the publisher's behalf; an approved stream on air is cut."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.NEWS_APPLICATIONS

    @extend_schema(request=WithdrawSerializer, responses={200: NewsApplicationSerializer})
    def post(self, request, pk: int):
        application = _application(pk, request.user)
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actions.withdraw_news_application(application, actor=request.user, note=data.validated_data["note"])
        return Response(NewsApplicationSerializer(_application(pk, request.user)).data)


class PublisherLicenceRequestSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=64, trim_whitespace=True, validators=[single_line])
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=[LicenceScope.GATHERING, LicenceScope.REPOSTING]), min_length=1
    )
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    scan_base64 = serializers.CharField(
        required=False, max_length=7 * 1024 * 1024, help_text="PDF/JPEG/PNG, ≤ 5 MB.", validators=[multiline]
    )
    scan_name = serializers.CharField(required=False, max_length=100, default="scan.pdf", validators=[single_line])

    def validate_scan_base64(self, value: str) -> bytes:
        try:
            return base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not valid base64.") from None

    def validate(self, data: dict) -> dict:
        if data["valid_until"] < data["valid_from"]:
            raise serializers.ValidationError({"valid_until": "A licence cannot end before it starts."})
        return data


class PublisherLicenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = PublisherLicence
        fields = ["id", "number", "scopes", "valid_from", "valid_until", "verification", "scan_sha256"]


class PublisherLicenceSubmit(APIView):
    """Record a publisher's news licence with its scan; a compliance admin verifies it (platform token)."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.NEWS_APPLICATIONS

    @extend_schema(request=PublisherLicenceRequestSerializer, responses={201: PublisherLicenceSerializer})
    def post(self, request, account_id: str):
        publisher = get_object_or_404(Publisher, platform_account_id=account_id)
        data = PublisherLicenceRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        licence = actions.submit_publisher_licence(
            publisher,
            number=fields["number"],
            scopes=fields["scopes"],
            valid_from=fields["valid_from"],
            valid_until=fields["valid_until"],
            scan=fields.get("scan_base64"),
            scan_name=fields["scan_name"],
            actor=request.user,
        )
        return Response(PublisherLicenceSerializer(licence).data, status=status.HTTP_201_CREATED)


class CommentRequestSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=64, help_text="The platform's id of the comment.", validators=[single_line])
    viewer_id = serializers.CharField(max_length=64, validators=[single_line])
    viewer_phone_verified = serializers.BooleanField(default=False)
    text = serializers.CharField(max_length=2000, trim_whitespace=False, validators=[multiline])
    posted_at = serializers.DateTimeField(required=False)


class CommentSerializer(serializers.ModelSerializer):
    verdict = serializers.SerializerMethodField(help_text="What the platform does with it now: publish, hold or block.")

    class Meta:
        model = Comment
        fields = [
            "id", "external_id", "stream", "verdict", "status", "hold_reason", "block_reason", "matched_terms",
            "flagged", "received_at",
        ]  # fmt: skip

    def get_verdict(self, comment: Comment) -> str:
        return actions.verdict_of(comment)


class StreamComments(APIView):
    """Push a comment on a live stream; the answer says whether it is published or held (platform token)."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.COMMENTS

    @extend_schema(request=CommentRequestSerializer, responses={201: CommentSerializer, 200: CommentSerializer})
    def post(self, request, pk: int):
        stream = get_object_or_404(Stream, pk=pk)
        data = CommentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        comment = actions.receive_comment(
            stream,
            external_id=fields["id"],
            viewer_id=fields["viewer_id"],
            viewer_phone_verified=fields["viewer_phone_verified"],
            text=fields["text"],
            posted_at=fields.get("posted_at"),
            actor=request.user,
        )
        code = status.HTTP_200_OK if comment.replayed else status.HTTP_201_CREATED
        return Response(CommentSerializer(comment).data, status=code)
