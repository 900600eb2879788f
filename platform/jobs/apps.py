from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Evaluation jobs"

    def ready(self) -> None:
        # Registers the evaluate task, and queues each submission once the transaction that stored it commits.
        from jobs.queueing import queue_stored_submission
        from submissions.services import submission_stored

        submission_stored.connect(queue_stored_submission, dispatch_uid="jobs.queue_stored_submission")
