"""The gate's callback URLs, served by Django where the lean ASGI front does not answer first."""

from django.urls import path

from moderation.gate import views

urlpatterns = [
    path(
        "gate/nginx-rtmp/<str:node_name>/<str:secret>/<str:hook>",
        views.nginx_rtmp_callback,
        name="gate-nginx-rtmp",
    ),
    path("gate/srs/<str:node_name>/<str:secret>/", views.srs_callback, name="gate-srs"),
]
