"""URL patterns of the console's pages (namespace "console")."""

from django.urls import path

from console import credit_views, news_views, views

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
]
