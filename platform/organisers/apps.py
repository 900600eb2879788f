from django.apps import AppConfig


class OrganisersConfig(AppConfig):
    name = "organisers"
    verbose_name = "Hosts and registrations"
