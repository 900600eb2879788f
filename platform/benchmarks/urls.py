from django.urls import path

from benchmarks import views

urlpatterns = [
    path("benchmarks/<slug:slug>/bundle/", views.bundle_download, name="bundle"),
]
