"""REST API views; writes go through moderation.actions.

Every view names its ``capability`` (moderation/permissions.py): staff endpoints a staff one, platform
endpoints the ``platform_backend`` machine client's. Identity data leaves masked.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from django.utils import timezone

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Scope
from moderation import actions, blacklist_matching, permissions, queries
from moderation.api import serializers
from moderation.models import Appeal, GateDecision, Publisher, Stream
from moderation.permissions import HasCapability


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class DuplicateAccount(Conflict):
    default_code = "duplicate_account"


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


# --- staff reads -----------------------------------------------------------------------------


class LiveStreamList(generics.ListAPIView):
    """List the streams that are live now."""

    serializer_class = serializers.StreamSerializer
    permission_classes = [HasCapability]
    capability = "api.staff"

    def get_queryset(self):
        return queries.live_streams_for_console()


class StreamDetail(generics.RetrieveAPIView):
    """Show one stream, live or ended."""

    serializer_class = serializers.StreamDetailSerializer
    permission_classes = [HasCapability]
    capability = "api.staff"
    queryset = Stream.objects.select_related("publisher", "category", "node", "last_patrolled_by")


class PublisherDetail(generics.RetrieveAPIView):
    """Show one publisher (staff), with real-name identity masked, and its credit level's rules."""

    serializer_class = serializers.PublisherSerializer
    permission_classes = [HasCapability]
    capability = "api.staff"
    queryset = Publisher.objects.all()


class PublisherCredit(generics.RetrieveAPIView):
    """Show a publisher's credit: score, level, what the level allows (the audience cap the platform
    enforces), the latest credit events (with the ids an appeal names). Staff or the platform backend."""

    serializer_class = serializers.PublisherCreditSerializer
    permission_classes = [HasCapability]
    capability = "api.platform_or_staff"
    scope = Scope.PUBLISHERS
    queryset = Publisher.objects.all()
    lookup_field = "platform_account_id"
    lookup_url_kwarg = "account_id"


class AppealSubmit(APIView):
    """Submit a publisher's appeal against a credit event (platform backend token)."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.APPEALS

    @extend_schema(request=serializers.AppealSubmissionSerializer, responses={201: serializers.AppealSerializer})
    def post(self, request):
        data = serializers.AppealSubmissionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = actions.submit_appeal(
            kind=data.validated_data["kind"],
            target_id=data.validated_data["target"],
            publisher_account_id=data.validated_data["publisher"],
            statement=data.validated_data["statement"],
            platform_reference=data.validated_data["reference"],
            submitted_by=request.user,
        )
        return Response(serializers.AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)


class AppealDetail(generics.RetrieveAPIView):
    """Show one appeal and its outcome."""

    serializer_class = serializers.AppealSerializer
    permission_classes = [HasCapability]
    capability = "api.platform_or_staff"
    scope = Scope.APPEALS

    def get_queryset(self):
        # A platform client reads only the appeals it submitted (404 for another client's).
        return permissions.client_objects(Appeal.objects.select_related("publisher"), self.request.user)


@extend_schema(
    parameters=[
        OpenApiParameter("stream_key", int, description="Only decisions about this stream key (id)."),
        OpenApiParameter("allowed", bool, description="Only allows (true) or denials (false)."),
    ]
)
class GateDecisionList(generics.ListAPIView):
    """List the gate's decisions, newest first, optionally for one key or only allows/denials."""

    serializer_class = serializers.GateDecisionSerializer
    permission_classes = [HasCapability]
    capability = "api.gate_decisions"
    pagination_class = Pagination

    def get_queryset(self):
        filters = serializers.GateDecisionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        decisions = GateDecision.objects.select_related("node").order_by("-at", "-id")
        if "stream_key" in filters.validated_data:
            decisions = decisions.filter(stream_key_id=filters.validated_data["stream_key"])
        if filters.validated_data.get("allowed") is not None:
            decisions = decisions.filter(allowed=filters.validated_data["allowed"])
        return decisions


# --- the platform's backend --------------------------------------------------------------------


class PublisherRegistration(APIView):
    """Register a publisher as the platform knows it (platform backend token)."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.PUBLISHERS

    @extend_schema(
        request=serializers.PublisherRegistrationSerializer, responses={201: serializers.PublisherSerializer}
    )
    def post(self, request):
        data = serializers.PublisherRegistrationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        account_id = fields.pop("platform_account_id")
        duplicate = DuplicateAccount(f"A publisher with platform_account_id {account_id!r} is registered already.")
        if Publisher.objects.filter(platform_account_id=account_id).exists():
            raise duplicate
        try:
            publisher = actions.register_publisher(account_id, actor=request.user, **fields)
        except IntegrityError:  # registered meanwhile by a concurrent request
            raise duplicate from None
        return Response(serializers.PublisherSerializer(publisher).data, status=status.HTTP_201_CREATED)


class StreamKeyIssue(APIView):
    """Issue a stream key to a publisher for a category; the key is in this answer only."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.STREAM_KEYS

    @extend_schema(
        request=serializers.StreamKeyRequestSerializer, responses={201: serializers.IssuedStreamKeySerializer}
    )
    def post(self, request, account_id: str):
        publisher = get_object_or_404(Publisher, platform_account_id=account_id)
        data = serializers.StreamKeyRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stream_key = actions.issue_stream_key(
            publisher,
            category=data.validated_data["category"],
            default_title=data.validated_data["default_title"],
            actor=request.user,
        )
        return Response(serializers.IssuedStreamKeySerializer(stream_key).data, status=status.HTTP_201_CREATED)


class RegistrationCheck(APIView):
    """May this identity register? Allowed, or refused with the blacklist entry's reference only.

    Production serves this path ahead of Django (moderation/gate/asgi.py); both answer through
    moderation.blacklist_matching.registration_check.
    """

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.REGISTRATION_CHECK

    @extend_schema(
        request=serializers.RegistrationCheckSerializer, responses={200: serializers.RegistrationCheckAnswerSerializer}
    )
    def post(self, request):
        status_code, body = blacklist_matching.registration_check(request.data)
        return Response(body, status=status_code)


class PublisherDeviceReport(APIView):
    """Record a device the platform saw a publisher use; a blacklisted device closes the account."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.PUBLISHERS

    @extend_schema(request=serializers.DeviceReportSerializer, responses={201: None})
    def post(self, request, account_id: str):
        publisher = get_object_or_404(Publisher, platform_account_id=account_id)
        data = serializers.DeviceReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device = actions.record_publisher_device(
            publisher, device_id=data.validated_data["device_id"], actor=request.user
        )
        publisher.refresh_from_db(fields=["status"])
        return Response({"device": device.masked, "publisher_status": publisher.status}, status=status.HTTP_201_CREATED)


class Health(APIView):
    """Tell an authenticated client that the API is up."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=serializers.HealthSerializer)
    def get(self, request):
        return Response({"status": "ok", "time": timezone.now(), "client": request.user.get_username()})
