"""The ToonBench site project: settings, URLs, WSGI and the Celery app."""

from toonbench_site.celery import app as celery_app

__all__ = ("celery_app",)
