"""Top-level URLs: console pages, accounts, the gate callbacks, the REST API, the admin."""

from django.contrib import admin
from django.urls import include, path

from console import bench_views, views

app_name_console = "console"

urlpatterns = [
    path("", include(("console.pages", "console"), namespace="console")),
    path("accounts/", include(("accounts.urls", "accounts"), namespace="accounts")),
    path("", include("moderation.urls")),
    path("api/v1/", include("moderation.api.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("bench/floor", bench_views.floor, name="bench-floor"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
