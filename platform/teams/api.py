"""The teams API under ``/api/teams/``: list and read teams, create one, invite, answer, leave.

Reading needs no account; every change needs one (a session or
``Authorization: Token <key>``) and goes through ``teams.services``, so a
refusal is the same one line as on the pages: ``{"error": ..., "field": null}``
with 400, or 403 when the caller may not act.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from teams import services
from teams.models import Invitation, Team
from teams.services import NotAllowed, TeamRefused

# Token first, so an unauthenticated call answers 401 with ``WWW-Authenticate: Token`` (as in api.views).
TOKEN_OR_SESSION = [TokenAuthentication, SessionAuthentication]
REFUSED = {400: OpenApiResponse(description="refused: {\"error\": one line, \"field\": null}"),
           403: OpenApiResponse(description="you may not do this: {\"error\": one line, \"field\": null}")}


class TeamSerializer(serializers.ModelSerializer):
    personal = serializers.BooleanField(source="is_personal", read_only=True)
    members = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["name", "personal", "members", "created"]

    def get_members(self, team: Team) -> list[str]:
        return [member.get_username() for member in services.members(team)]


class InvitationSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name", read_only=True)
    invitee = serializers.CharField(source="invitee.get_username", read_only=True)
    inviter = serializers.CharField(source="inviter.get_username", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "team", "invitee", "inviter", "state", "created", "answered"]


class NewTeamSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)


class InviteSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)


class MyTeamSerializer(serializers.Serializer):
    team = TeamSerializer(allow_null=True, help_text="the team you are in; null when you enter on your own")
    enters_as = serializers.CharField(help_text="the name your entries appear under")
    invitations = InvitationSerializer(many=True, help_text="invitations waiting for your answer")
    sent = InvitationSerializer(many=True, help_text="your team's open invitations")


def refusal(exc: TeamRefused) -> APIException:
    """403 when the caller may not act, else 400; the site's exception handler gives the one error shape."""
    return PermissionDenied(str(exc)) if isinstance(exc, NotAllowed) else ValidationError(str(exc))


def named_team(name: str) -> Team:
    team = services.find_team(name)
    if team is None:
        raise Http404(f"no team named {name!r}")
    return team


class TeamListCreate(generics.ListCreateAPIView):
    """Teams (not participants entering on their own), by name; POST ``{"name": ...}`` to create yours."""

    authentication_classes = TOKEN_OR_SESSION
    serializer_class = TeamSerializer

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self) -> QuerySet[Team]:
        return Team.objects.filter(personal_for__isnull=True)

    @extend_schema(request=NewTeamSerializer, responses={201: TeamSerializer, **REFUSED})
    def post(self, request: Request) -> Response:
        body = NewTeamSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            team = services.create_team(request.user, body.validated_data["name"].strip())
        except TeamRefused as exc:
            raise refusal(exc) from None
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamDetail(APIView):
    """One team, or a participant entering on their own, with its members."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: TeamSerializer})
    def get(self, request: Request, name: str) -> Response:
        return Response(TeamSerializer(named_team(name)).data)


class MyTeam(APIView):
    """The team you are in, the name you enter under, and the open invitations to and from you."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MyTeamSerializer})
    def get(self, request: Request) -> Response:
        team = services.current_team(request.user)
        return Response(MyTeamSerializer({
            "team": team,
            "enters_as": team.name if team else request.user.get_username(),
            "invitations": services.pending_for(request.user),
            "sent": services.pending_from(team) if team else [],
        }).data)


class TeamInvite(APIView):
    """Invite a user to the team by username; only its members may."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(request=InviteSerializer, responses={201: InvitationSerializer, **REFUSED})
    def post(self, request: Request, name: str) -> Response:
        body = InviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            invitation = services.invite(request.user, named_team(name), body.validated_data["username"].strip())
        except TeamRefused as exc:
            raise refusal(exc) from None
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class TeamLeave(APIView):
    """Leave the team; the team and its name stay."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: TeamSerializer, **REFUSED})
    def post(self, request: Request, name: str) -> Response:
        team = named_team(name)
        try:
            services.leave(request.user, team)
        except TeamRefused as exc:
            raise refusal(exc) from None
        return Response(TeamSerializer(team).data)


class InvitationList(generics.ListAPIView):
    """Invitations waiting for your answer."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]
    serializer_class = InvitationSerializer

    def get_queryset(self) -> QuerySet[Invitation]:
        return services.pending_for(self.request.user)


class InvitationAnswer(APIView):
    """Accept or decline (the invitee) or withdraw (a member of the inviting team) an open invitation."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]
    answer = ""  # one of services.ANSWERS, set in teams.api_urls

    @extend_schema(request=None, responses={200: InvitationSerializer, **REFUSED})
    def post(self, request: Request, pk: int) -> Response:
        invitation = Invitation.objects.select_related("team", "invitee", "inviter").filter(pk=pk).first()
        if invitation is None:
            raise Http404(f"no invitation #{pk}")
        try:
            services.ANSWERS[self.answer](request.user, invitation)
        except TeamRefused as exc:
            raise refusal(exc) from None
        return Response(InvitationSerializer(invitation).data)

