from django.urls import path

from submissions import views

urlpatterns = [
    path("submit/", views.submit, name="submit"),
    path("submissions/", views.my_submissions, name="my_submissions"),
    path("submissions/<int:pk>/status.json", views.submission_status, name="submission_status"),
    path("submissions/<int:pk>/cancel/", views.cancel, name="cancel_submission"),
    path("submissions/<int:pk>/rerun/", views.rerun, name="rerun_submission"),
    path("submissions/<int:pk>/visibility/", views.set_visibility, name="submission_visibility"),
    path("submissions/<int:pk>/entry/", views.choose_entry, name="submission_entry"),
]
