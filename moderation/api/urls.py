from django.urls import path

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from moderation.api import audiences, comments, news, onboarding, reports, snapshots, views

# The schema and docs are for signed-in staff and API clients, not the open internet.
_private = {"permission_classes": [IsAuthenticated]}
# The API's reference pages load their scripts from files, but style themselves inline.
_inline_styles = csp_update({"style-src": [UNSAFE_INLINE]})

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**_private), name="api-schema"),
    path(
        "docs/",
        _inline_styles(SpectacularSwaggerSplitView.as_view(url_name="api-schema", **_private)),
        name="api-docs",
    ),
    path("redoc/", _inline_styles(SpectacularRedocView.as_view(url_name="api-schema", **_private)), name="api-redoc"),
    path("health/", views.Health.as_view(), name="api-health"),
    path("streams/live/", views.LiveStreamList.as_view(), name="api-live-streams"),
    path("streams/<int:pk>/", views.StreamDetail.as_view(), name="api-stream"),
    path("streams/<int:pk>/viewers/", audiences.StreamViewers.as_view(), name="api-stream-viewers"),
    path("streams/<int:pk>/snapshots/", snapshots.StreamSnapshotPush.as_view(), name="api-stream-snapshots"),
    path("publishers/", views.PublisherRegistration.as_view(), name="api-publishers"),
    path("publishers/<int:pk>/", views.PublisherDetail.as_view(), name="api-publisher"),
    path("publishers/<str:account_id>/credit/", views.PublisherCredit.as_view(), name="api-publisher-credit"),
    path(
        "publishers/<str:account_id>/verifications/",
        onboarding.VerificationReportSubmit.as_view(),
        name="api-publisher-verifications",
    ),
    path(
        "publishers/<str:account_id>/agreement/", onboarding.AgreementAccept.as_view(), name="api-publisher-agreement"
    ),
    path(
        "publishers/<str:account_id>/stream-keys/<int:key_id>/revoke/",
        onboarding.StreamKeyRevoke.as_view(),
        name="api-publisher-stream-key-revoke",
    ),
    path(
        "publishers/<str:account_id>/verification-reviews/",
        onboarding.VerificationReviewSubmit.as_view(),
        name="api-publisher-verification-reviews",
    ),
    path(
        "publishers/<str:account_id>/verification-reviews/<int:review_id>/",
        onboarding.VerificationReviewDetail.as_view(),
        name="api-publisher-verification-review",
    ),
    path(
        "publishers/<str:account_id>/filing-category/",
        onboarding.PublisherFilingCategory.as_view(),
        name="api-publisher-filing-category",
    ),
    path("agreements/", onboarding.AgreementPublish.as_view(), name="api-agreements"),
    path("agreements/current/", onboarding.CurrentAgreement.as_view(), name="api-current-agreement"),
    path("appeals/", views.AppealSubmit.as_view(), name="api-appeals"),
    path("appeals/<int:pk>/", views.AppealDetail.as_view(), name="api-appeal"),
    path("publishers/<str:account_id>/stream-keys/", views.StreamKeyIssue.as_view(), name="api-publisher-stream-keys"),
    path(
        "publishers/<str:account_id>/news-applications/",
        news.NewsApplicationSubmit.as_view(),
        name="api-publisher-news-applications",
    ),
    path(
        "publishers/<str:account_id>/news-licences/",
        news.PublisherLicenceSubmit.as_view(),
        name="api-publisher-news-licences",
    ),
    path("news-applications/<int:pk>/", news.NewsApplicationDetail.as_view(), name="api-news-application"),
    path(
        "news-applications/<int:pk>/withdraw/",
        news.NewsApplicationWithdraw.as_view(),
        name="api-news-application-withdraw",
    ),
    path("streams/<int:pk>/comments/", news.StreamComments.as_view(), name="api-stream-comments"),
    path("comments/", comments.CommentBatch.as_view(), name="api-comments"),
    path("comments/decided/", comments.DecidedComments.as_view(), name="api-comments-decided"),
    path("comments/removals/", comments.CommentRemovals.as_view(), name="api-comment-removals"),
    path("viewers/mutes/", comments.ViewerMutes.as_view(), name="api-viewer-mutes"),
    path("viewers/mutes/<int:pk>/lift/", comments.ViewerMuteLift.as_view(), name="api-viewer-mute-lift"),
    path("publishers/<str:account_id>/devices/", views.PublisherDeviceReport.as_view(), name="api-publisher-devices"),
    path("registration-check", views.RegistrationCheck.as_view(), name="api-registration-check"),
    path("reports/", reports.ReportSubmit.as_view(), name="api-reports"),
    path("reports/<str:receipt>/", reports.ReportStatus.as_view(), name="api-report"),
    path("gate-decisions/", views.GateDecisionList.as_view(), name="api-gate-decisions"),
]
