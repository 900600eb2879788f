from django.urls import path

from leaderboards import views

urlpatterns = [
    path("", views.home, name="home"),
    path("benchmarks/<slug:slug>/", views.benchmark_detail, name="benchmark"),
    path("benchmarks/<slug:slug>/leaderboard.csv", views.leaderboard_csv, name="leaderboard_csv"),
    path("benchmarks/<slug:slug>/figures/<str:digest>.png", views.leaderboard_figure, name="leaderboard_figure"),
    path("teams/<str:name>/", views.team_page, name="team"),
]
