"""URL patterns of the console's pages (namespace "console")."""

from django.urls import path

from console import blacklist_views, credit_views, news_views, views

urlpatterns = [
    path("", views.wall, name="home"),
    path("streams/<int:stream_id>/", views.stream_detail, name="stream"),
    path("news/", news_views.news_queue, name="news-queue"),
    path("news/applications/<int:application_id>/", news_views.news_application, name="news-application"),
    path("news/licences/", news_views.news_licences, name="news-licences"),
    path("publishers/<int:publisher_id>/", credit_views.publisher_detail, name="publisher"),
    path("publishers/<int:publisher_id>/credit/adjust/", credit_views.adjust_publisher_credit, name="publisher-adjust"),
    path("credit/", credit_views.credit_policy, name="credit-policy"),
    path("credit/edit/", credit_views.credit_policy_edit, name="credit-policy-edit"),
    path("appeals/", credit_views.appeal_list, name="appeals"),
    path("appeals/<int:appeal_id>/", credit_views.appeal_detail, name="appeal"),
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
