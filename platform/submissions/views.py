"""Submission pages: submit, my submissions, a submission's status poll, cancel, re-run, publish or hide,
choose as the team's entry.

A submission's own page, with its numbers and plots, is the ``results`` app's (``results.views``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from submissions import access, actions
from submissions.forms import SubmissionForm, open_benchmarks
from submissions.listing import MySubmissionsFilter
from submissions.models import Submission
from submissions.quota import QuotaExceeded, remaining_submissions
from submissions.services import RetryLater, SubmissionRefused, create_submission
from teams.services import team_of
from uploads.size_cap import install_size_cap, refusal_status

MY_SUBMISSIONS_PER_PAGE = 25


@csrf_exempt
def submit(request: HttpRequest) -> HttpResponse:
    """Visitors are sent to log in before any upload is read; the upload cap is installed
    before the CSRF check reads the body, then CSRF is checked."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    refusal = install_size_cap(request) if request.method == "POST" else ""
    return _submit(request, refusal)


@csrf_protect
def _submit(request: HttpRequest, refusal: str) -> HttpResponse:
    retry_after_s = 0
    if request.method == "POST" and not refusal:
        form = SubmissionForm(request.POST, request.FILES)
        refusal = getattr(request, "upload_rejected", "")
        if not refusal and form.is_valid():
            try:
                submission = create_submission(
                    request.user, form.cleaned_data["benchmark"], form.cleaned_data["kind"],
                    form.cleaned_data["method_name"], artefact=form.cleaned_data.get("artefact"),
                    image_ref=form.cleaned_data.get("image_ref", ""), **form.details(),
                )
            except (QuotaExceeded, SubmissionRefused) as exc:
                form.add_error(None, str(exc))
                retry_after_s = exc.retry_after_s if isinstance(exc, RetryLater) else 0
            else:
                messages.success(request, f"Submission #{submission.pk} stored and queued for evaluation.")
                return redirect("submission", pk=submission.pk)
    else:
        form = SubmissionForm(initial={"benchmark": request.GET.get("benchmark")})
    if refusal:
        form = SubmissionForm(initial={"benchmark": request.GET.get("benchmark")})
    team = team_of(request.user)
    quotas = [
        {"benchmark": benchmark, "remaining": remaining_submissions(team, benchmark),
         "limit_mb": benchmark.typed_spec.limits.upload_mb}
        for benchmark in open_benchmarks()
    ]
    status = refusal_status(request) if refusal else (400 if request.method == "POST" else 200)
    response = render(request, "submissions/submit.html",
                      {"form": form, "refusal": refusal, "quotas": quotas, "team": team},
                      status=429 if retry_after_s else status)
    if retry_after_s:
        response["Retry-After"] = str(retry_after_s)
    return response


@login_required
def my_submissions(request: HttpRequest) -> HttpResponse:
    """The user's submissions, newest first, a page at a time, filtered by benchmark and status;
    the page links keep the filters. An unknown filter value is refused (400) with one line."""
    submissions = (
        Submission.objects.live().filter(owner=request.user)
        .select_related("benchmark", "protocol")
        .defer("log_tail")
        .order_by("-created", "-pk")
    )
    filters = MySubmissionsFilter(request.GET, queryset=submissions)
    refusal = filters.refusal()
    page = Paginator(submissions.none() if refusal else filters.qs, MY_SUBMISSIONS_PER_PAGE).get_page(
        request.GET.get("page"))
    context = {"page": page, "submissions": page.object_list, "filters": filters, "refusal": refusal}
    return render(request, "submissions/mine.html", context, status=400 if refusal else 200)


def submission_status(request: HttpRequest, pk: int) -> JsonResponse:
    """What the submission page polls while the job runs."""
    submission = access.visible_submission(request, pk)
    return JsonResponse(status_record(submission, show_log=access.can_see_logs(request.user, submission)))


def status_record(submission: Submission, show_log: bool = False) -> dict[str, object]:
    """The poll's answer; with ``show_log`` (owner and staff) also the container's log tail so far."""
    record: dict[str, object] = {
        "id": submission.pk,
        "status": submission.status,
        "status_display": submission.get_status_display(),
        "is_final": submission.is_final,
        "reason": submission.status_reason,
        "attempts": submission.attempts,
        "started_at": submission.started_at.isoformat() if submission.started_at else None,
        "finished_at": submission.finished_at.isoformat() if submission.finished_at else None,
    }
    if show_log:
        record["log_tail"] = submission.log_tail
    return record


def managed_submission(request: HttpRequest, pk: int) -> Submission:
    submission = access.visible_submission(request, pk)
    if not access.can_manage(request.user, submission):
        raise PermissionDenied("only the submission's owner or staff may do this")
    return submission


@require_POST
@login_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    submission = managed_submission(request, pk)
    if actions.cancel(submission, by_staff=submission.owner_id != request.user.pk):
        messages.success(request, f"Submission #{pk} cancelled.")
    else:
        messages.info(request, f"Submission #{pk} had already ended ({submission.get_status_display()}).")
    return redirect(_safe_next(request, pk))


@require_POST
@login_required
def rerun(request: HttpRequest, pk: int) -> HttpResponse:
    submission = managed_submission(request, pk)
    try:
        again = actions.rerun(submission)
    except (QuotaExceeded, SubmissionRefused) as exc:
        messages.error(request, str(exc))
        return redirect(_safe_next(request, pk))
    messages.success(request, f"Submission #{pk} queued again as #{again.pk}.")
    return redirect("submission", pk=again.pk)


@require_POST
@login_required
def set_visibility(request: HttpRequest, pk: int) -> HttpResponse:
    submission = managed_submission(request, pk)
    make_public = request.POST.get("public") == "1"
    try:
        actions.set_public(submission, make_public, request.user)
    except SubmissionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Submission #{pk} is now {'public' if make_public else 'private'}.")
    return redirect(_safe_next(request, pk))


@require_POST
@login_required
def choose_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark (``chosen=1``) or unmark (``chosen=0``) the submission as its team's entry; any member may."""
    submission = access.visible_submission(request, pk)
    chosen = request.POST.get("chosen", "1") == "1"
    try:
        actions.choose_entry(submission, request.user, chosen)
    except SubmissionRefused as exc:
        messages.error(request, str(exc))
    else:
        done = "is now" if chosen else "is no longer"
        messages.success(request, f"Submission #{pk} {done} the entry of team {submission.team.name}.")
    return redirect(_safe_next(request, pk))


def _safe_next(request: HttpRequest, pk: int) -> str:
    """Back to the page the button was on, if it is one of ours; else the submission page."""
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return f"/submissions/{pk}/"
