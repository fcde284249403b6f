"""URL patterns of the console's pages (namespace "console")."""

from django.urls import path

from console import views

urlpatterns = [
    path("", views.home, name="home"),
]
