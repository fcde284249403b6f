"""Top-level URLs: console pages, accounts, the gate callbacks, the REST API, the admin."""

from django.contrib import admin
from django.urls import include, path

from console.views import audits, blacklist, comments, credit, health, media, news, patrol, security

# The console's pages (namespace "console").
console_pages = [
    path("", patrol.wall, name="home"),
    path("streams/<int:stream_id>/", patrol.stream_detail, name="stream"),
    path("news/", news.news_queue, name="news-queue"),
    path("news/applications/<int:application_id>/", news.news_application, name="news-application"),
    path("news/licences/", news.news_licences, name="news-licences"),
    path("publishers/<int:publisher_id>/", credit.publisher_detail, name="publisher"),
    path("publishers/<int:publisher_id>/credit/adjust/", credit.adjust_publisher_credit, name="publisher-adjust"),
    path("credit/", credit.credit_policy, name="credit-policy"),
    path("credit/edit/", credit.credit_policy_edit, name="credit-policy-edit"),
    path("appeals/", credit.appeal_list, name="appeals"),
    path("appeals/<int:appeal_id>/", credit.appeal_detail, name="appeal"),
    path("comments/held/", comments.hold_queue, name="hold-queue"),
    path("comments/mutes/", comments.viewer_mutes, name="viewer-mutes"),
    path("comments/mutes/<int:mute_id>/lift", comments.viewer_unmute, name="viewer-unmute"),
    path("streams/<int:stream_id>/comment-slow-mode", comments.stream_slow_mode, name="stream-slow-mode"),
    path("streams/<int:stream_id>/viewer-measure", comments.stream_viewer_measure, name="stream-viewer-measure"),
    path("comments/terms/", comments.terms, name="terms"),
    path("comments/terms/<int:term_id>/", comments.term_change, name="term-change"),
    path("comments/terms/import/", comments.terms_import, name="terms-import"),
    path("comments/terms/export/", comments.terms_export, name="terms-export"),
    path("comments/terms/versions/<int:number>.txt", comments.terms_version_file, name="terms-version-file"),
    path("blacklist/", blacklist.blacklist, name="blacklist"),
    path("blacklist/add/", blacklist.blacklist_add, name="blacklist-add"),
    path("blacklist/export/", blacklist.blacklist_export, name="blacklist-export"),
    path(
        "blacklist/exports/<int:export_id>/<str:part>",
        blacklist.blacklist_export_file,
        name="blacklist-export-file",
    ),
    path("blacklist/<str:reference>/", blacklist.blacklist_entry, name="blacklist-entry"),
    path("blacklist/<str:reference>/removal", blacklist.blacklist_removal, name="blacklist-removal"),
    path("security/lockouts/", security.lockouts, name="lockouts"),
    path("security/lockouts/unlock", security.unlock, name="lockouts-unlock"),
    path("audits/", audits.audits, name="audits"),
    path("audits/runs/<int:run_id>/", audits.audit_run, name="audit-run"),
    path("audits/<slug:name>/run", audits.audit_run_now, name="audit-run-now"),
    path("audits/<slug:name>/schedule", audits.audit_schedule, name="audit-schedule"),
    path(
        "audits/findings/<int:finding_id>/<slug:step>",
        audits.finding_handle,
        name="audit-finding",
    ),
]

urlpatterns = [
    path("", include((console_pages, "console"), namespace="console")),
    path("accounts/", include(("accounts.urls", "accounts"), namespace="accounts")),
    path("", include("moderation.gate.urls")),
    path("api/v1/", include("moderation.api.urls")),
    path("media/snapshots/<path:path>", media.snapshot_image, name="media-snapshot"),
    path("healthz", health.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
