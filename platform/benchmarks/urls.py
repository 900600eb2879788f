from django.urls import path

from benchmarks import views

urlpatterns = [
    path("", views.home, name="home"),
    path("benchmarks/<slug:slug>/", views.benchmark_detail, name="benchmark"),
    path("benchmarks/<slug:slug>/bundle/", views.bundle_download, name="bundle"),
]
