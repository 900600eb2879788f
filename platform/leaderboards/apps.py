from django.apps import AppConfig


class LeaderboardsConfig(AppConfig):
    name = "leaderboards"
    verbose_name = "Leaderboards"

    def ready(self) -> None:
        # A stored result is compared with its new neighbours once its transaction commits.
        from leaderboards.tasks import queue_comparisons
        from results.store import result_stored

        result_stored.connect(queue_comparisons, dispatch_uid="leaderboards.queue_comparisons")
