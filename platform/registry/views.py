"""The registry's token service and the registry address the site advertises.

``GET /registry/token/?service=...&scope=repository:alice/model:pull,push``
with HTTP Basic (username + API token, or the workers' service credential)
answers ``{"token": ..., "access_token": ..., "expires_in": ..., "issued_at": ...}``.
A user gets pull and push under ``<username>/`` and, while a member, under
``<team>/`` (``registry.namespaces``); workers pull anything. Other pull
scopes are left out of the token (the registry then refuses), and a push
outside one's namespaces is refused here with the reason, which
``docker push`` prints. Errors use the registry's JSON error
shape so Docker shows their message.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime, timezone

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttle import clear_sign_in_failures, failed_sign_in_wait, record_sign_in_failure, wait_message
from registry.namespaces import namespaces_of, own_namespace, team_namespace
from registry.tokens import Principal, Scope, SigningKeyMissing, access_entry, granted, mint


def registry_error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"errors": [{"code": code, "message": message, "detail": None}]}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="ToonBench registry"'
    return response


def basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, separator, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if separator else None


def authenticate(credentials: tuple[str, str]) -> Principal | None:
    username, password = credentials
    worker_password = settings.TOONBENCH_REGISTRY_WORKER_PASSWORD
    if username == settings.TOONBENCH_REGISTRY_WORKER_USER:
        if worker_password and hmac.compare_digest(password.encode(), worker_password.encode()):
            return Principal(username, (), is_worker=True)
        return None
    token = Token.objects.select_related("user").filter(key=password).first()
    if token is None or token.user.username != username or not token.user.is_active:
        return None
    return Principal(username, namespaces_of(token.user))


def push_refusal(principal: Principal, scope: Scope) -> str:
    address = settings.TOONBENCH_REGISTRY_ADDR
    if principal.is_worker:
        return f"{scope.name}: the workers' credential may only pull"
    if not principal.namespaces:
        return (f"{scope.name}: the username {principal.name!r} cannot name a registry namespace "
                "(lower-case letters, digits and . _ - only); join a team or ask an administrator")
    places = " or ".join(f"{address}/{namespace}/<name>:<tag>" for namespace in principal.namespaces)
    plural = "s" if len(principal.namespaces) > 1 else ""
    return f"{scope.name} is outside your namespace{plural}: {principal.name} may push only to {places}"


@require_GET
def token(request: HttpRequest) -> JsonResponse:
    service = request.GET.get("service", "")
    if service and service != settings.TOONBENCH_REGISTRY_SERVICE:
        return registry_error(400, "UNSUPPORTED", f"unknown registry service {service!r}")
    credentials = basic_credentials(request)
    if credentials is None:
        return registry_error(401, "UNAUTHORIZED", "log in with your ToonBench username and API token "
                                                   f"(docker login {settings.TOONBENCH_REGISTRY_ADDR})")
    # Only failures are limited here: docker asks for a token at every push and pull, so a request rate
    # would throttle honest clients and workers.
    wait_s = failed_sign_in_wait(request, credentials[0])
    if wait_s:
        refusal = registry_error(429, "TOOMANYREQUESTS", wait_message(wait_s))
        refusal["Retry-After"] = str(wait_s)
        return refusal
    principal = authenticate(credentials)
    if principal is None:
        record_sign_in_failure(request, credentials[0])
        return registry_error(401, "UNAUTHORIZED", "wrong username or API token (the token page of the site "
                                                   "shows yours)")
    clear_sign_in_failures(request, credentials[0])
    access = []
    for text in request.GET.getlist("scope"):
        scope = Scope.parse(text)
        if scope is None:
            return registry_error(400, "UNSUPPORTED", f"malformed scope {text!r} (expected type:name:actions)")
        actions = granted(principal, scope)
        if "push" in scope.actions and "push" not in actions:
            return registry_error(403, "DENIED", push_refusal(principal, scope))
        if actions:
            access.append(access_entry(scope, actions))
    try:
        signed = mint(principal.name, access)
    except SigningKeyMissing as exc:
        return registry_error(503, "UNAVAILABLE", str(exc))
    return JsonResponse({
        "token": signed,
        "access_token": signed,
        "expires_in": int(settings.TOONBENCH_REGISTRY_TOKEN_TTL_S),
        "issued_at": datetime.now(timezone.utc).isoformat(),
    })


class RegistryInfo(APIView):
    """Where to push images, and the caller's namespaces there: their own and their team's (null when none)."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="The platform registry's address and your namespaces")
    def get(self, request: Request) -> Response:
        user = request.user
        signed_in = user.is_authenticated
        return Response({
            "address": settings.TOONBENCH_REGISTRY_ADDR,
            "username": user.get_username() if signed_in else None,
            "namespace": own_namespace(user) if signed_in else None,
            "team_namespace": team_namespace(user) if signed_in else None,
            "token_service": request.build_absolute_uri("/registry/token/"),
        })
