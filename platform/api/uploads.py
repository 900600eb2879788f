"""Resumable chunked uploads over the REST API, shaped after the tus protocol.

- ``POST /api/uploads/``: benchmark, kind (``tarball`` | ``predictions``), filename,
  total_bytes, optional sha256 -> 201 with the upload's id and ``Location``.
- ``HEAD`` or ``GET /api/uploads/<id>/``: ``Upload-Offset`` (where to resume),
  ``Upload-Length``, ``Upload-Expires``; GET also as JSON.
- ``PATCH`` (or ``PUT``) ``/api/uploads/<id>/``: one chunk as the raw body, with
  ``Upload-Offset`` and ``Content-Type: application/offset+octet-stream`` -> 204 with
  the new ``Upload-Offset``; a wrong offset answers 409 with the right one.
- ``DELETE /api/uploads/<id>/``: abandon it.
- ``POST /api/uploads/<id>/complete/``: method_name and the other submission
  details -> 201 with the submission.

Uploads are their owner's only: anyone else gets 404.
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import Refused
from api.serializers import UNKNOWN_BENCHMARK, SubmissionSerializer
from api.views import TOKEN_OR_SESSION
from benchmarks.models import Benchmark
from submissions import services
from submissions.forms import open_benchmarks
from submissions.models import FILE_KINDS
from uploads import chunked
from uploads.models import ChunkedUpload

CHUNK_CONTENT_TYPE = "application/offset+octet-stream"


class UploadCreateSerializer(serializers.Serializer):
    benchmark = serializers.SlugRelatedField(slug_field="slug", queryset=Benchmark.objects.none(),
                                             error_messages=UNKNOWN_BENCHMARK)
    kind = serializers.ChoiceField(choices=[kind.value for kind in FILE_KINDS])
    filename = serializers.CharField(max_length=1000)
    total_bytes = serializers.IntegerField(min_value=1)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False, allow_blank=True, default="",
                                    error_messages={"invalid": "expected 64 hexadecimal digits"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["benchmark"].queryset = open_benchmarks()


class UploadCompleteSerializer(serializers.Serializer):
    method_name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    paper_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")
    code_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")
    is_public = serializers.BooleanField(required=False, default=True)


def offset_headers(upload: ChunkedUpload) -> dict[str, str]:
    return {
        "Upload-Offset": str(upload.received_bytes),
        "Upload-Length": str(upload.total_bytes),
        "Upload-Expires": format_datetime(chunked.expires_at(upload), usegmt=True),
        "Cache-Control": "no-store",
    }


def upload_record(upload: ChunkedUpload, request: Request) -> dict[str, Any]:
    return {
        "id": str(upload.pk),
        "url": request.build_absolute_uri(reverse("api-upload", args=[upload.pk])),
        "benchmark": upload.benchmark.slug,
        "kind": upload.kind,
        "filename": upload.filename,
        "total_bytes": upload.total_bytes,
        "offset": upload.received_bytes,
        "sha256": upload.sha256,
        "expires": chunked.expires_at(upload).isoformat(),
        "chunk_max_bytes": chunked.chunk_limit_bytes(),
    }


def refusal(exc: chunked.UploadError) -> Refused:
    """The refusal in the API's one shape; where to resume goes in the ``Upload-Offset`` header."""
    headers = {"Upload-Offset": str(exc.offset)} if exc.offset is not None else None
    return Refused(str(exc), exc.status, headers=headers)


def owned_upload(request: Request, pk: Any) -> ChunkedUpload:
    upload = ChunkedUpload.objects.select_related("benchmark").filter(pk=pk, owner=request.user).first()
    if upload is None:
        raise NotFound(f"no such upload (unfinished uploads are removed after {chunked.expiry_hours()} "
                       "without a chunk; completed ones become submissions)")
    return upload


def header_number(request: Request, meta_key: str) -> int | None:
    value = request.META.get(meta_key, "")
    return int(value) if value.isdigit() else None


class UploadCreate(APIView):
    """Open a resumable upload of a large tarball or predictions archive."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(request=UploadCreateSerializer, responses={201: OpenApiTypes.OBJECT}, summary="Open an upload")
    def post(self, request: Request) -> Response:
        serializer = UploadCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            upload = services.open_upload(request.user, data["benchmark"], data["kind"], data["filename"],
                                          data["total_bytes"], data["sha256"])
        except chunked.UploadError as exc:
            raise refusal(exc) from None
        record = upload_record(upload, request)
        headers = {**offset_headers(upload), "Location": record["url"]}
        return Response(record, status=status.HTTP_201_CREATED, headers=headers)


class UploadDetail(APIView):
    """An upload's offset (HEAD, GET), one more chunk (PATCH, PUT), or abandoning it (DELETE)."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="Where an upload stands")
    def get(self, request: Request, pk: Any) -> Response:
        upload = owned_upload(request, pk)
        return Response(upload_record(upload, request), headers=offset_headers(upload))

    def head(self, request: Request, pk: Any) -> Response:
        return Response(status=status.HTTP_200_OK, headers=offset_headers(owned_upload(request, pk)))

    @extend_schema(
        request={CHUNK_CONTENT_TYPE: OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("Upload-Offset", int, OpenApiParameter.HEADER, required=True,
                                     description="the upload's current offset: where this chunk starts")],
        responses={204: None, 409: OpenApiResponse(description="wrong offset; the body and header give the right one")},
        summary="Append a chunk",
    )
    def patch(self, request: Request, pk: Any) -> Response:
        upload = owned_upload(request, pk)
        if request.content_type.split(";")[0].strip().lower() != CHUNK_CONTENT_TYPE:
            raise Refused(f"a chunk is sent as Content-Type: {CHUNK_CONTENT_TYPE}, "
                          f"not {request.content_type or 'nothing'}", status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        offset = header_number(request, "HTTP_UPLOAD_OFFSET")
        if offset is None:
            raise refusal(chunked.UploadError("the Upload-Offset header (where this chunk starts) is missing",
                                               offset=upload.received_bytes))
        length = header_number(request, "CONTENT_LENGTH")
        if length is None:
            raise Refused("a chunk needs a Content-Length header", status.HTTP_411_LENGTH_REQUIRED)
        stream = request.stream
        read = stream.read if stream is not None else (lambda size: b"")
        try:
            chunked.append_chunk(upload, offset, length, read)
        except chunked.UploadError as exc:
            raise refusal(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT, headers=offset_headers(upload))

    @extend_schema(request={CHUNK_CONTENT_TYPE: OpenApiTypes.BINARY}, responses={204: None},
                   summary="Append a chunk (as PATCH)")
    def put(self, request: Request, pk: Any) -> Response:
        return self.patch(request, pk)

    @extend_schema(responses={204: None}, summary="Abandon an upload")
    def delete(self, request: Request, pk: Any) -> Response:
        upload = owned_upload(request, pk)
        if upload.completed_at is not None:
            raise refusal(chunked.UploadError(f"upload {upload.pk} is being completed", status=409))
        chunked.discard_upload(upload)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadComplete(APIView):
    """Check the whole upload and submit it."""

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(request=UploadCompleteSerializer, responses={201: SubmissionSerializer},
                   summary="Complete an upload")
    def post(self, request: Request, pk: Any) -> Response:
        upload = owned_upload(request, pk)
        serializer = UploadCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        details = dict(serializer.validated_data)
        try:
            submission = services.complete_upload(upload, details.pop("method_name"), **details)
        except chunked.UploadError as exc:
            raise refusal(exc) from None
        return Response(SubmissionSerializer(submission, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)
