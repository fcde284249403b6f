"""The platform's onboarding of a publisher: real-name verification, the service agreement, stream keys.

Registration itself is ``views.PublisherRegistration``; key issue is ``views.StreamKeyIssue``. The whole
walk, with curl, is in docs/onboarding.md.
"""

from __future__ import annotations

import base64
import binascii

from django.shortcuts import get_object_or_404

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Scope
from moderation import actions, permissions, queries
from moderation.api.serializers import _text
from moderation.models import Publisher, ServiceAgreement, StreamKey, VerificationReport, VerificationReview
from moderation.permissions import HasCapability


class VerificationReportRequest(serializers.Serializer):
    """A verification the platform's backend (or its provider) performed."""

    method = serializers.ChoiceField(
        choices=[c for c in VerificationReport.Method.choices if c[0] != VerificationReport.Method.MANUAL_REVIEW]
    )
    provider = _text(64, required=True, help_text="Who performed it (the platform, or its KYC provider).")
    reference = _text(128, required=True, help_text="The provider's reference; a report is accepted once.")
    result = serializers.ChoiceField(choices=VerificationReport.Result.choices)
    reason = _text(300, default="", help_text="Why it failed (required when result is failed).")
    performed_at = serializers.DateTimeField(help_text="When it was performed (ISO 8601 with its offset).")


class VerificationReportAnswer(serializers.ModelSerializer):
    publisher = serializers.CharField(source="publisher.platform_account_id")
    verification = serializers.CharField(source="publisher.verification")

    class Meta:
        model = VerificationReport
        fields = [
            "id", "publisher", "method", "provider", "reference", "result", "reason", "performed_at", "received_at",
            "verification",
        ]  # fmt: skip


class AgreementSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceAgreement
        fields = ["version", "title", "effective_at", "grace_ends_at", "text"]


class AgreementPublication(serializers.Serializer):
    """A new version of the service agreement, as a compliance admin's client publishes it."""

    version = _text(32, required=True, help_text="Letters, digits, '.', '_' or '-'; never used before.")
    title = _text(200, required=True)
    text = _text(200_000, required=True, multiline=True, help_text="The agreement's full text.")
    effective_at = serializers.DateTimeField(help_text="From when it binds (ISO 8601 with its offset; not past).")
    grace_days = serializers.IntegerField(
        min_value=0, max_value=365, default=0, help_text="Days after it binds that the previous version still counts."
    )


class AgreementAcceptance(serializers.Serializer):
    version = _text(32, required=True)
    accepted_at = serializers.DateTimeField(required=False, help_text="When the publisher accepted (default now).")


class AgreementAcceptanceAnswer(serializers.ModelSerializer):
    publisher = serializers.CharField(source="platform_account_id")

    class Meta:
        model = Publisher
        fields = ["publisher", "agreement_version", "agreement_accepted_at"]


class FilingCategoryRequest(serializers.Serializer):
    category = serializers.ChoiceField(choices=Publisher.FilingCategory.choices)


class FilingStateAnswer(serializers.ModelSerializer):
    publisher = serializers.CharField(source="platform_account_id")

    class Meta:
        model = Publisher
        fields = ["publisher", "filing_category", "filing", "filing_changed_at", "filed_at"]


class StreamKeyStateSerializer(serializers.ModelSerializer):
    """A key without the key itself (only its issue answer carries it)."""

    category = serializers.CharField(source="category.slug")
    publisher = serializers.CharField(source="publisher.platform_account_id")

    class Meta:
        model = StreamKey
        fields = ["id", "publisher", "category", "default_title", "status", "created_at", "revoked_at"]


class ReviewDocument(serializers.Serializer):
    name = _text(100, default="scan")
    content_base64 = serializers.CharField(max_length=3 * 1024 * 1024, help_text="PNG, JPEG or PDF, at most 2 MB.")

    def validate_content_base64(self, value: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not valid base64.") from None


class VerificationReviewRequest(serializers.Serializer):
    """A verification the platform could not decide itself, sent for manual review with its scans."""

    reference = _text(128, required=True, help_text="The platform's reference; a review is accepted once.")
    documents = ReviewDocument(many=True, help_text="1 to 4 scans (ID card both sides, licence …).")


class VerificationReviewAnswer(serializers.ModelSerializer):
    publisher = serializers.CharField(source="publisher.platform_account_id")
    documents = serializers.SerializerMethodField()

    class Meta:
        model = VerificationReview
        fields = ["id", "publisher", "reference", "status", "submitted_at", "decided_at", "note", "documents"]

    def get_documents(self, review: VerificationReview) -> list[dict]:
        return [
            {"name": d.name, "content_type": d.content_type, "size": d.size, "sha256": d.sha256}
            for d in review.documents.all()
        ]


class VerificationReviewSubmit(APIView):
    """Send a verification for manual review in the console (compliance admins; four-eyes for organisations)."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.VERIFICATION

    @extend_schema(request=VerificationReviewRequest, responses={201: VerificationReviewAnswer})
    def post(self, request, account_id: str):
        publisher = get_object_or_404(Publisher, platform_account_id=account_id)
        data = VerificationReviewRequest(data=request.data)
        data.is_valid(raise_exception=True)
        review = actions.submit_verification_review(
            publisher,
            reference=data.validated_data["reference"],
            documents=[(d["name"], d["content_base64"]) for d in data.validated_data["documents"]],
            actor=request.user,
        )
        return Response(VerificationReviewAnswer(review).data, status=status.HTTP_201_CREATED)


class VerificationReviewDetail(APIView):
    """The state of a review the platform sent (its decision and note)."""

    permission_classes = [HasCapability]
    capability = "api.platform_or_staff"
    scope = Scope.VERIFICATION

    @extend_schema(responses={200: VerificationReviewAnswer})
    def get(self, request, account_id: str, review_id: int):
        review = get_object_or_404(
            permissions.client_objects(VerificationReview.objects.select_related("publisher"), request.user),
            pk=review_id,
            publisher__platform_account_id=account_id,
        )
        return Response(VerificationReviewAnswer(review).data)


class VerificationReportSubmit(APIView):
    """Report a real-name verification the platform performed; applied unless a newer one stands."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.VERIFICATION

    @extend_schema(request=VerificationReportRequest, responses={201: VerificationReportAnswer})
    def post(self, request, account_id: str):
        publisher = get_object_or_404(Publisher, platform_account_id=account_id)
        data = VerificationReportRequest(data=request.data)
        data.is_valid(raise_exception=True)
        report = actions.report_verification(publisher, actor=request.user, **data.validated_data)
        return Response(VerificationReportAnswer(report).data, status=status.HTTP_201_CREATED)


class CurrentAgreement(APIView):
    """The service agreement in force now (the one new publishers accept)."""

    permission_classes = [HasCapability]
    capability = "api.platform_or_staff"
    scope = Scope.PUBLISHERS

    @extend_schema(responses={200: AgreementSerializer})
    def get(self, request):
        agreement = queries.current_agreement()
        if agreement is None:
            return Response(
                {"error": {"code": "not_found", "message": "No service agreement is in force."}},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(AgreementSerializer(agreement).data)


class AgreementPublish(APIView):
    """Publish a new version of the service agreement (a compliance admin's client; the console page does the same)."""

    permission_classes = [HasCapability]
    capability = "agreement.manage"

    @extend_schema(request=AgreementPublication, responses={201: AgreementSerializer})
    def post(self, request):
        data = AgreementPublication(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = actions.publish_agreement(actor=request.user, **data.validated_data)
        return Response(AgreementSerializer(agreement).data, status=status.HTTP_201_CREATED)


class AgreementAccept(APIView):
    """Record that the publisher accepted a version of the service agreement."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.PUBLISHERS

    @extend_schema(request=AgreementAcceptance, responses={200: AgreementAcceptanceAnswer})
    def post(self, request, account_id: str):
        publisher = get_object_or_404(Publisher, platform_account_id=account_id)
        data = AgreementAcceptance(data=request.data)
        data.is_valid(raise_exception=True)
        publisher = actions.accept_agreement(
            publisher,
            version=data.validated_data["version"],
            accepted_at=data.validated_data.get("accepted_at"),
            actor=request.user,
        )
        return Response(AgreementAcceptanceAnswer(publisher).data)


class StreamKeyRevoke(APIView):
    """Revoke one of the publisher's stream keys; the gate denies it from now on."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.STREAM_KEYS

    @extend_schema(request=None, responses={200: StreamKeyStateSerializer})
    def post(self, request, account_id: str, key_id: int):
        stream_key = get_object_or_404(
            StreamKey.objects.select_related("publisher", "category"),
            pk=key_id,
            publisher__platform_account_id=account_id,
        )
        stream_key = actions.revoke_stream_key(stream_key, actor=request.user)
        return Response(StreamKeyStateSerializer(stream_key).data)


class PublisherFilingCategory(APIView):
    """Set the category the publisher is filed under (分类备案); a change goes into the next filing export."""

    permission_classes = [HasCapability]
    capability = "filing.manage"
    scope = Scope.PUBLISHERS

    @extend_schema(request=FilingCategoryRequest, responses={200: FilingStateAnswer})
    def post(self, request, account_id: str):
        publisher = get_object_or_404(Publisher, platform_account_id=account_id)
        data = FilingCategoryRequest(data=request.data)
        data.is_valid(raise_exception=True)
        publisher = actions.set_filing_category(publisher, category=data.validated_data["category"], actor=request.user)
        return Response(FilingStateAnswer(publisher).data)
