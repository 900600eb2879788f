"""``/api/v1/submissions/``: list (filtered, paged) and submit; read, edit and delete one; cancel, re-run, choose.

- ``GET submissions/``: your submissions, newest first, filtered as ``api.filters`` says, paged with
  ``limit`` and ``offset`` (``count``, ``next``, ``previous``, ``results``);
- ``POST submissions/`` (multipart): submit;
- ``GET submissions/<id>/``: one submission; a private one is a 404 to everyone but its owner and staff;
- ``PATCH submissions/<id>/`` with ``description`` and/or ``is_public``: edit (members of its team, staff);
- ``DELETE submissions/<id>/``: delete your own submission (never a baseline). The quota it used is not
  given back: it counts as it did before (a finished one for its 24 hours); a queued or running one is
  cancelled first, and cancelled submissions never count (``submissions.actions``);
- ``POST submissions/<id>/cancel/``, ``.../rerun/``, and ``POST``/``DELETE .../entry/``.

Every refusal is ``{"error": ..., "field": ...}`` (``api.errors``); submissions their owners deleted are
a 404 everywhere.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Refused, named_field
from api.filters import StrictFilterBackend, SubmissionFilter
from api.serializers import ErrorSerializer, SubmissionCreateSerializer, SubmissionSerializer
from api.views import TOKEN_OR_SESSION
from submissions import access, actions
from submissions.actions import NotInTeam
from submissions.models import DESCRIPTION_MAX_CHARS, Submission
from submissions.quota import QuotaExceeded
from submissions.services import RetryLater, SubmissionRefused, create_submission
from uploads.size_cap import install_size_cap, refusal_status

EDITABLE = ("description", "is_public")
RELATED = ("benchmark", "protocol", "owner", "team", "phase", "result")


def refused(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


class SubmissionEditSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=DESCRIPTION_MAX_CHARS)
    is_public = serializers.BooleanField(required=False)


def quota_refusal(exc: QuotaExceeded) -> Refused:
    """429, with Retry-After when the limit frees up by itself."""
    retry = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RetryLater) else None
    return Refused(str(exc), status.HTTP_429_TOO_MANY_REQUESTS, headers=retry)


def submission_field(message: str) -> str | None:
    """The submit form's field a refusal starts with (``phase: ...``), if it names one."""
    return named_field(message, SubmissionCreateSerializer._declared_fields)


def visible(request: Request, pk: int) -> Submission:
    """The live submission if the caller may see it; a 404 otherwise (private ones are not revealed)."""
    submission = Submission.objects.live().select_related(*RELATED).filter(pk=pk).first()
    if submission is None or not access.can_view(request.user, submission):
        raise NotFound(f"no submission #{pk} (or it is private, or was deleted)")
    return submission


def managed(request: Request, pk: int) -> Submission:
    """The submission if the caller may change it (its owner or staff); 403 for others who can see it."""
    submission = visible(request, pk)
    if not access.can_manage(request.user, submission):
        raise PermissionDenied(f"only the owner of submission #{pk} or staff may do this")
    return submission


def body(submission: Submission, request: Request) -> dict[str, Any]:
    return SubmissionSerializer(submission, context={"request": request}).data


class SubmissionListCreate(generics.ListCreateAPIView):
    """Your submissions (newest first), filtered and paged; POST a multipart form to submit."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]
    serializer_class = SubmissionSerializer
    filter_backends = [StrictFilterBackend]
    filterset_class = SubmissionFilter

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Cap the upload before authentication reads the body (CSRF checks read form data).
        self.upload_refusal = install_size_cap(request._request) if request.method == "POST" else ""
        super().initial(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Submission]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator asks without a user
            return Submission.objects.none()
        return Submission.objects.live().filter(owner=self.request.user).select_related(*RELATED).order_by("-created")

    @extend_schema(request={"multipart/form-data": SubmissionCreateSerializer},
                   responses={201: SubmissionSerializer, 400: refused("refused"), 413: refused("too large"),
                              429: refused("over the quota")})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if self.upload_refusal:
            raise Refused(self.upload_refusal, refusal_status(request._request), field="artefact")
        serializer = SubmissionCreateSerializer(data=request.data)
        too_large = getattr(request._request, "upload_rejected", "")
        if too_large:
            raise Refused(too_large, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, field="artefact")
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            submission = create_submission(
                request.user, data["benchmark"], data["kind"], data["method_name"], artefact=data["artefact"],
                image_ref=data["image_ref"], description=data["description"], paper_url=data["paper_url"],
                code_url=data["code_url"], is_public=data["is_public"], phase=data["phase"],
            )
        except QuotaExceeded as exc:
            raise quota_refusal(exc) from None
        except SubmissionRefused as exc:
            raise Refused(str(exc), field=submission_field(str(exc))) from None
        return Response(body(submission, request), status=status.HTTP_201_CREATED)


class SubmissionDetail(generics.GenericAPIView):
    """One submission: read it, edit its description or visibility, or delete it."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = SubmissionSerializer

    @extend_schema(responses={200: SubmissionSerializer, 404: refused("no such submission, or private")})
    def get(self, request: Request, pk: int) -> Response:
        return Response(body(visible(request, pk), request))

    @extend_schema(request=SubmissionEditSerializer,
                   responses={200: SubmissionSerializer, 400: refused("a field that cannot be changed"),
                              403: refused("not yours, or not your team's")})
    def patch(self, request: Request, pk: int) -> Response:
        submission = managed(request, pk)
        fixed = [name for name in request.data if name not in EDITABLE]
        if fixed:
            raise Refused(f"{fixed[0]!r} cannot be changed; expected any of: {', '.join(EDITABLE)}", field=fixed[0])
        if not request.data:
            raise Refused(f"nothing to change; send any of: {', '.join(EDITABLE)}")
        edit = SubmissionEditSerializer(data=request.data)
        edit.is_valid(raise_exception=True)
        try:
            if "description" in edit.validated_data:
                actions.set_description(submission, edit.validated_data["description"], request.user)
            if "is_public" in edit.validated_data:
                actions.set_public(submission, edit.validated_data["is_public"], request.user)
        except NotInTeam as exc:
            raise PermissionDenied(str(exc)) from None
        return Response(body(submission, request))

    @extend_schema(request=None, responses={
        204: OpenApiResponse(description="deleted; the quota it used is not given back (a queued or running "
                                         "submission is cancelled first, and cancelled ones never count)"),
        403: refused("not your own submission, or a baseline")})
    def delete(self, request: Request, pk: int) -> Response:
        submission = visible(request, pk)
        if submission.is_baseline:
            raise PermissionDenied(f"submission #{pk} is a bundled baseline; baselines cannot be deleted")
        if submission.owner_id != request.user.pk:
            raise PermissionDenied(f"only the owner of submission #{pk} may delete it")
        actions.delete(submission)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubmissionCancel(generics.GenericAPIView):
    """Cancel a queued or running submission (its owner or staff); 409 when it had already ended."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]
    serializer_class = SubmissionSerializer

    @extend_schema(request=None, responses={200: SubmissionSerializer, 409: refused("already ended")})
    def post(self, request: Request, pk: int) -> Response:
        submission = managed(request, pk)
        if not actions.cancel(submission, by_staff=submission.owner_id != request.user.pk):
            raise Refused(f"submission #{pk} already ended ({submission.status}); there is nothing to cancel",
                          status.HTTP_409_CONFLICT)
        return Response(body(submission, request))


class SubmissionRerun(generics.GenericAPIView):
    """Queue an ended submission again as a new one (same artefact or image); it counts against the quota."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]
    serializer_class = SubmissionSerializer

    @extend_schema(request=None, responses={201: SubmissionSerializer, 400: refused("refused"),
                                            403: refused("not yours, or not your team's"),
                                            409: refused("still queued or running"), 429: refused("over the quota")})
    def post(self, request: Request, pk: int) -> Response:
        submission = managed(request, pk)
        if not submission.is_final:
            raise Refused(f"submission #{pk} is still {submission.status}; cancel it first, or wait for it to end",
                          status.HTTP_409_CONFLICT)
        try:
            again = actions.rerun(submission)
        except QuotaExceeded as exc:
            raise quota_refusal(exc) from None
        except NotInTeam as exc:
            raise PermissionDenied(str(exc)) from None
        except SubmissionRefused as exc:
            raise Refused(str(exc), field=submission_field(str(exc))) from None
        return Response(body(again, request), status=status.HTTP_201_CREATED)


class SubmissionEntry(generics.GenericAPIView):
    """POST: make the submission its team's chosen entry on its benchmark and protocol; DELETE: unmark it.

    Any member of the submission's team may; others get 403 with one line.
    """

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]
    serializer_class = SubmissionSerializer

    @extend_schema(request=None, responses={200: SubmissionSerializer, 400: refused("refused"),
                                            403: refused("not a member of the team")})
    def post(self, request: Request, pk: int) -> Response:
        return self._choose(request, pk, chosen=True)

    @extend_schema(request=None, responses={200: SubmissionSerializer, 403: refused("not a member of the team")})
    def delete(self, request: Request, pk: int) -> Response:
        return self._choose(request, pk, chosen=False)

    def _choose(self, request: Request, pk: int, chosen: bool) -> Response:
        submission = visible(request, pk)
        try:
            actions.choose_entry(submission, request.user, chosen)
        except NotInTeam as exc:
            raise PermissionDenied(str(exc)) from None
        except SubmissionRefused as exc:
            raise Refused(str(exc)) from None
        return Response(body(submission, request))
