"""Filing a report from the platform app's API, one flow for both ways the request arrives.

``POST /api/v1/reports/`` with a JSON body and a platform token is answered ahead of Django's
middleware on threads of its own (moderation/gate/asgi.py, moderation/gate/report_filing.py), as the
registration check is: a report flood must not be the reason the console hears of reports late.
Any other request to the same URL (a session, a body too large for the lean front) reaches the DRF
view (moderation/api/reports.py). Both validate with the serializers here and file through
``file_app_report``, so they answer alike.
"""

from __future__ import annotations

import base64
import binascii

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from moderation import actions, report_intake
from moderation.models import PublicReport, ReportCategory
from moderation.text_input import multiline, single_line

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


def error(status: int, code: str, message: str) -> tuple[int, dict]:
    return status, {"error": {"code": code, "message": message}}


def file_app_report(data) -> tuple[int, dict]:
    """File the report a platform backend sent for a user; return the HTTP status and the answer's body."""
    request = ReportRequestSerializer(data=data)
    if not request.is_valid():  # the API's error shape (moderation/api/errors.py) for a ValidationError
        return 400, {
            "error": {"code": "invalid", "message": str(ValidationError.default_detail), "fields": request.errors}
        }
    given = request.validated_data
    address = given.get("reporter_address") or ""
    try:
        report_intake.count_against_limits(address=address, device_id=given["device_id"])
        images = report_intake.check_images(given.get("images", []))
    except report_intake.ReportRefused as exc:
        return error(exc.status, exc.code, str(exc))
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
        return error({"unknown_target": 404, "queue_full": 503}.get(exc.code, 400), exc.code, str(exc))
    return 201, ReportStatusSerializer(report).data
