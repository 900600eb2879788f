from django.apps import AppConfig


class LeaderboardsConfig(AppConfig):
    name = "leaderboards"
    verbose_name = "Leaderboards"

    def ready(self) -> None:
        # A stored result is compared with its new neighbours once its transaction commits, and moves its
        # team's shown score on a ladder phase.
        from leaderboards.ladder import record_result
        from leaderboards.tasks import queue_comparisons
        from results.store import result_stored

        result_stored.connect(record_result, dispatch_uid="leaderboards.ladder")
        result_stored.connect(queue_comparisons, dispatch_uid="leaderboards.queue_comparisons")
