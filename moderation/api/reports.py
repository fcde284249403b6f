"""The platform app's report entrance (投诉举报, Art. 19): file a report for a user, follow its status.

The platform backend's token (``api.platform``) files on behalf of its users; it passes the user's
address and device id, which count against the same hourly limits as the public page. A JSON
filing with a platform token is usually answered ahead of Django (moderation/report_api.py says
how); this view answers the rest alike, through the same function.
"""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Scope
from moderation import queries, report_intake
from moderation.permissions import HasCapability
from moderation.report_api import ReportRequestSerializer, ReportStatusSerializer, file_app_report

_RECEIPT = re.compile(report_intake.RECEIPT_PATTERN)


class ReportSubmit(APIView):
    """File a report for a platform user (platform backend token); answer its receipt number."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.REPORTS

    @extend_schema(request=ReportRequestSerializer, responses={201: ReportStatusSerializer})
    def post(self, request):
        status, body = file_app_report(request.data)
        return Response(body, status=status)


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
