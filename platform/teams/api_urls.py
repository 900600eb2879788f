"""``/api/teams/...``; the fixed words come before ``<name>`` and no team may take them (``teams.names``)."""

from django.urls import path

from teams import api, services

urlpatterns = [
    path("", api.TeamListCreate.as_view(), name="api-teams"),
    path("mine/", api.MyTeam.as_view(), name="api-my-team"),
    path("invitations/", api.InvitationList.as_view(), name="api-invitations"),
    *(path(f"invitations/<int:pk>/{answer}/", api.InvitationAnswer.as_view(answer=answer),
           name=f"api-invitation-{answer}") for answer in services.ANSWERS),
    path("<str:name>/", api.TeamDetail.as_view(), name="api-team"),
    path("<str:name>/invitations/", api.TeamInvite.as_view(), name="api-team-invite"),
    path("<str:name>/leave/", api.TeamLeave.as_view(), name="api-team-leave"),
]
