"""Viewer counts pushed by the platform's backend (it counts where a node cannot: CDN edges, app players)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Scope
from moderation import actions
from moderation.actions.audiences import VIEWERS_MAX
from moderation.models import Stream
from moderation.permissions import HasCapability


class ViewerCount(serializers.Serializer):
    viewers = serializers.IntegerField(min_value=0, max_value=VIEWERS_MAX, help_text="Concurrent viewers now.")


class ViewerCountAnswer(serializers.Serializer):
    stream = serializers.IntegerField()
    viewers = serializers.IntegerField()
    review_flag = serializers.CharField(help_text="audience_over_cap when the count passed the level's cap.")


class StreamViewers(APIView):
    """Report a live stream's concurrent viewers; the card, the patrol priority and the audience cap use it."""

    permission_classes = [HasCapability]
    capability = "api.platform"
    scope = Scope.AUDIENCES

    @extend_schema(request=ViewerCount, responses={200: ViewerCountAnswer})
    def post(self, request, pk: int):
        stream = get_object_or_404(Stream, pk=pk)
        data = ViewerCount(data=request.data)
        data.is_valid(raise_exception=True)
        stream = actions.report_viewers(stream, viewers=data.validated_data["viewers"], actor=request.user)
        stream.refresh_from_db(fields=["viewers", "review_flag"])
        return Response({"stream": stream.pk, "viewers": stream.viewers, "review_flag": stream.review_flag})
