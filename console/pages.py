"""URL patterns of the console's pages (namespace "console")."""

from django.urls import path

from console import blacklist_views, views

urlpatterns = [
    path("", views.wall, name="home"),
    path("streams/<int:stream_id>/", views.stream_detail, name="stream"),
    path("blacklist/", blacklist_views.blacklist, name="blacklist"),
    path("blacklist/add/", blacklist_views.blacklist_add, name="blacklist_add"),
    path("blacklist/export/", blacklist_views.blacklist_export, name="blacklist_export"),
    path(
        "blacklist/exports/<int:export_id>/<str:part>",
        blacklist_views.blacklist_export_file,
        name="blacklist_export_file",
    ),
    path("blacklist/<str:reference>/", blacklist_views.blacklist_entry, name="blacklist_entry"),
    path("blacklist/<str:reference>/removal", blacklist_views.blacklist_removal, name="blacklist_removal"),
]
