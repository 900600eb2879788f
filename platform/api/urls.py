"""The API's paths, served under ``/api/v1/`` (and as unversioned ``/api/`` aliases, ``toonbench_site.urls``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from api import submissions, uploads, views
from registry.views import RegistryInfo

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("", include("api.benchmark_uploads")),
    path("benchmarks/<slug:slug>/", views.BenchmarkDetail.as_view(), name="api-benchmark"),
    path("benchmarks/<slug:slug>/bundle/", views.BundleDownload.as_view(), name="api-bundle"),
    path("benchmarks/<slug:slug>/leaderboard/", views.Leaderboard.as_view(), name="api-leaderboard"),
    path("submissions/", submissions.SubmissionListCreate.as_view(), name="api-submissions"),
    path("submissions/<int:pk>/", submissions.SubmissionDetail.as_view(), name="api-submission"),
    path("submissions/<int:pk>/cancel/", submissions.SubmissionCancel.as_view(), name="api-submission-cancel"),
    path("submissions/<int:pk>/rerun/", submissions.SubmissionRerun.as_view(), name="api-submission-rerun"),
    path("submissions/<int:pk>/entry/", submissions.SubmissionEntry.as_view(), name="api-submission-entry"),
    path("uploads/", uploads.UploadCreate.as_view(), name="api-uploads"),
    path("uploads/<uuid:pk>/", uploads.UploadDetail.as_view(), name="api-upload"),
    path("uploads/<uuid:pk>/complete/", uploads.UploadComplete.as_view(), name="api-upload-complete"),
    path("registry/", RegistryInfo.as_view(), name="api-registry"),
    path("teams/", include("teams.api_urls")),
    path("", include("api.phases")),
    path("", include("hostdesk.api")),
]
