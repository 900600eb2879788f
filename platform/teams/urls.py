"""Team pages; a team's own page (``teams/<name>/``, named ``team``) is served by ``leaderboards.urls``."""

from django.urls import path

from teams import services, views

urlpatterns = [
    path("team/", views.my_team, name="my_team"),
    path("team/create/", views.create_team, name="create_team"),
    path("team/invite/", views.invite, name="invite_to_team"),
    path("team/leave/", views.leave, name="leave_team"),
    *(path(f"team/invitations/<int:pk>/{action}/", views.answer, {"action": action}, name=f"{action}_invitation")
      for action in services.ANSWERS),
    path("teams/", views.team_list, name="teams"),
]
