"""REST API views; writes go through moderation.actions."""

from rest_framework import generics, serializers

from accounts.roles import HasRole
from moderation import queries
from moderation.models import Stream


class StreamSerializer(serializers.ModelSerializer):
    publisher = serializers.CharField(source="publisher.display_name")
    category = serializers.CharField(source="category.slug")
    node = serializers.CharField(source="node.name")

    class Meta:
        model = Stream
        fields = ["id", "title", "publisher", "category", "node", "app", "client_id", "viewers", "started_at"]


class LiveStreamList(generics.ListAPIView):
    """List the streams that are live now."""

    serializer_class = StreamSerializer
    permission_classes = [HasRole]

    def get_queryset(self):
        return queries.live_streams_for_console()
