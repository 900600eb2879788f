from django.urls import path

from registry import views

urlpatterns = [
    path("registry/token/", views.token, name="registry-token"),
    path("api/registry/", views.RegistryInfo.as_view(), name="api-registry"),
]
