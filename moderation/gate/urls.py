from django.urls import path

from moderation import media_views
from moderation.gate import views

urlpatterns = [
    path(
        "gate/nginx-rtmp/<str:node_name>/<str:secret>/<str:hook>",
        views.nginx_rtmp_callback,
        name="gate-nginx-rtmp",
    ),
    path("gate/srs/<str:node_name>/<str:secret>/", views.srs_callback, name="gate-srs"),
    path("media/snapshots/<path:path>", media_views.snapshot_image, name="media-snapshot"),
]
