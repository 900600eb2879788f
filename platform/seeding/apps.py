from django.apps import AppConfig


class SeedingConfig(AppConfig):
    name = "seeding"
    verbose_name = "Baseline seeding"
