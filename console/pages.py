"""URL patterns of the console's pages (namespace "console")."""

from django.urls import path

from console import views

urlpatterns = [
    path("", views.wall, name="home"),
    path("streams/<int:stream_id>/", views.stream_detail, name="stream"),
]
