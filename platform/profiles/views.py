from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.reserved import BASELINE_OWNER
from profiles.entries import entry, public_submissions

PER_PAGE = 50


def profile(request: HttpRequest, username: str) -> HttpResponse:
    """A participant's public entries; closed accounts (inactive, other than the baselines' owner) have none."""
    owner = get_object_or_404(get_user_model(), username=username)
    if not owner.is_active and username != BASELINE_OWNER:
        raise Http404("no such participant")
    page = Paginator(public_submissions(owner), PER_PAGE).get_page(request.GET.get("page"))
    entries = [entry(request.user, submission) for submission in page]
    return render(request, "profiles/profile.html", {"owner": owner, "page": page, "entries": entries})
