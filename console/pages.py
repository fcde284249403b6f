"""URL patterns of the console's pages (namespace "console")."""

from django.urls import path

from console import news_views, views

urlpatterns = [
    path("", views.wall, name="home"),
    path("streams/<int:stream_id>/", views.stream_detail, name="stream"),
    path("news/", news_views.news_queue, name="news-queue"),
    path("news/applications/<int:application_id>/", news_views.news_application, name="news-application"),
    path("news/licences/", news_views.news_licences, name="news-licences"),
]
