from django.urls import path

from leaderboards import views

urlpatterns = [
    path("benchmarks/<slug:slug>/leaderboard.csv", views.leaderboard_csv, name="leaderboard_csv"),
]
