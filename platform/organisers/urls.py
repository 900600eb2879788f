from django.urls import path

from organisers import views

urlpatterns = [
    path("benchmarks/<slug:slug>/register/", views.registration_page, name="register"),
    path("benchmarks/<slug:slug>/hosting/", views.host_page, name="host_desk"),
    *(path(f"benchmarks/<slug:slug>/hosting/registrations/<int:pk>/{decision}/", views.decide_registration,
           {"decision": decision}, name=f"{decision}_registration") for decision in ("approve", "refuse")),
    *(path(f"benchmarks/<slug:slug>/hosting/co-organisers/{action}/", views.change_host, {"action": action},
           name=f"{action}_co_organiser") for action in ("add", "remove")),
]
