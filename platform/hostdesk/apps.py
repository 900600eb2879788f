from django.apps import AppConfig


class HostdeskConfig(AppConfig):
    name = "hostdesk"
    verbose_name = "Host desk"
