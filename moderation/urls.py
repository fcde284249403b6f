from django.urls import path

from moderation import gate_views, media_views

urlpatterns = [
    path(
        "gate/nginx-rtmp/<str:node_name>/<str:secret>/<str:hook>",
        gate_views.nginx_rtmp_callback,
        name="gate-nginx-rtmp",
    ),
    path("gate/srs/<str:node_name>/<str:secret>/", gate_views.srs_callback, name="gate-srs"),
    path("media/snapshots/<path:path>", media_views.snapshot_image, name="media-snapshot"),
]
