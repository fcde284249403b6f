"""The platform app's report entrance (投诉举报, Art. 19): file a report for a user, follow its status.

The platform backend's token (``api.platform``) files on behalf of its users; it passes the user's
address and device id, which count against the same hourly limits as the public page.
"""

from __future__ import annotations

import base64
import binascii
import re

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Scope
from moderation import actions, queries, report_intake
from moderation.models import PublicReport, ReportCategory
from moderation.permissions import HasCapability
from moderation.text_input import multiline, single_line

_RECEIPT = re.compile(report_intake.RECEIPT_PATTERN)
# Base64 of a 1 MB image, and a little room.
_IMAGE_TEXT_MAX = (report_intake.MAX_IMAGE_BYTES * 4) // 3 + 8


class ReportRequestSerializer(serializers.Serializer):
    target_kind = serializers.ChoiceField(choices=PublicReport.Target.choices)
    target = serializers.CharField(
        max_length=300, validators=[single_line], help_text="Stream id, account id, comment id or URL."
    )
    category = serializers.ChoiceField(choices=ReportCategory.choices)
    description = serializers.CharField(max_length=report_intake.DESCRIPTION_MAX, validators=[multiline])
    contact = serializers.CharField(
        max_length=report_intake.CONTACT_MAX, required=False, allow_blank=True, validators=[single_line]
    )
    device_id = serializers.CharField(max_length=64, validators=[single_line])
    reporter_address = serializers.IPAddressField(required=False, allow_blank=True)
    images = serializers.ListField(
        child=serializers.CharField(max_length=_IMAGE_TEXT_MAX, trim_whitespace=False),
        max_length=report_intake.MAX_IMAGES,
        required=False,
        help_text="Base64 of each image (JPEG, PNG, GIF or WebP, at most 1 MB).",
    )

    def validate(self, data: dict) -> dict:
        if data["target_kind"] == PublicReport.Target.STREAM:
            if not data["target"].isdigit() or len(data["target"]) > 12:
                raise serializers.ValidationError({"target": "A stream is named by its id."})
            data["target"] = int(data["target"])
        decoded = []
        for number, text in enumerate(data.get("images", []), start=1):
            try:
                decoded.append(base64.b64decode(text, validate=True))
            except (binascii.Error, ValueError):
                raise serializers.ValidationError({"images": f"Image {number} is not base64."}) from None
        data["images"] = decoded
        return data


class ReportStatusSerializer(serializers.Serializer):
    receipt = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    received_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField()
    measure = serializers.CharField(source="action.kind", default=None)


def _refused(exc: report_intake.ReportRefused) -> Response:
    return Response({"error": {"code": exc.code, "message": str(exc)}}, status=exc.status)


class ReportSubmit(APIView):
    """File a report for a platform user (platform backend token); answer its receipt number."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.REPORTS

    @extend_schema(request=ReportRequestSerializer, responses={201: ReportStatusSerializer})
    def post(self, request):
        data = ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        address = given.get("reporter_address") or ""
        try:
            report_intake.count_against_limits(address=address, device_id=given["device_id"])
            images = report_intake.check_images(given.get("images", []))
        except report_intake.ReportRefused as exc:
            return _refused(exc)
        try:
            report = actions.file_report(
                source=PublicReport.Source.APP,
                target_kind=given["target_kind"],
                target=given["target"],
                category=given["category"],
                description=given["description"],
                contact=given.get("contact", ""),
                address=address,
                device_id=given["device_id"],
                images=images,
            )
        except actions.ModerationError as exc:
            code = {"unknown_target": 404, "queue_full": 503}.get(exc.code, 400)
            return Response({"error": {"code": exc.code, "message": str(exc)}}, status=code)
        return Response(ReportStatusSerializer(report).data, status=status.HTTP_201_CREATED)


class ReportStatus(APIView):
    """Show a report's status by its receipt number (platform backend token)."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.REPORTS

    @extend_schema(responses={200: ReportStatusSerializer})
    def get(self, request, receipt: str):
        report = queries.report_by_receipt(receipt) if _RECEIPT.fullmatch(receipt) else None
        if report is None:
            return Response({"error": {"code": "not_found", "message": "no such report"}}, status=404)
        return Response(ReportStatusSerializer(report).data)
