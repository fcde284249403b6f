"""Top-level URLs: console pages, accounts, the gate callbacks, the REST API, the admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from console import bench_views, views

urlpatterns = [
    path("", include(("console.pages", "console"), namespace="console")),
    path("accounts/", include(("accounts.urls", "accounts"), namespace="accounts")),
    path("", include("moderation.gate.urls")),
    path("api/v1/", include("moderation.api.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.LIVEWARD_BENCH_FLOOR:
    urlpatterns.append(path("bench/floor", bench_views.floor, name="bench-floor"))
