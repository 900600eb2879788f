from django.urls import path

from results import views

urlpatterns = [
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/plots/<slug:name>.png", views.submission_plot, name="submission_plot"),
]
