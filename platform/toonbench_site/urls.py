"""Site URLs: the admin, plus each app's own ``urls.py`` when the app has one.

Apps add pages by creating ``platform/<app>/urls.py``; nothing here needs
to change. Each app's patterns are mounted at the prefix listed below. The
API is served under ``/api/v1/``, and its unversioned ``/api/`` paths stay
as aliases of the same views (namespace ``unversioned``, so URL names
reverse to ``/api/v1/``).
"""

from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path

APP_URL_PREFIXES = {
    "api": "api/v1/",
    "accounts": "accounts/",
    "submissions": "",
    "results": "",
    "leaderboards": "",
    "benchmarks": "",
    "registry": "",
    "teams": "",
    "organisers": "",
    "notifications": "accounts/",
    "profiles": "",
}

urlpatterns = [path("admin/", admin.site.urls)]
for app_name, prefix in APP_URL_PREFIXES.items():
    if find_spec(f"{app_name}.urls") is not None:
        urlpatterns.append(path(prefix, include(f"{app_name}.urls")))
urlpatterns.append(path("api/", include(("api.urls", "api"), namespace="unversioned")))

# Error pages: one sentence each, never settings or tracebacks (toonbench_site/errors.py).
handler400 = "toonbench_site.errors.bad_request"
handler403 = "toonbench_site.errors.permission_denied"
handler404 = "toonbench_site.errors.page_not_found"
handler500 = "toonbench_site.errors.server_error"
