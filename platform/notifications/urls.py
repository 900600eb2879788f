"""Mounted under ``accounts/`` (toonbench_site/urls.py)."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("mail/", views.settings_page, name="mail_settings"),
    path("mail/confirm/", views.send_confirmation_link, name="send_confirmation"),
    path("confirm/<str:token>/", views.confirm_address, name="confirm_address"),
]
