from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Mails the invitee of each new team invitation, once the transaction that stored it commits.
        from django.db.models.signals import post_save

        from notifications.mail import invitation_saved
        from teams.models import Invitation

        post_save.connect(invitation_saved, sender=Invitation, dispatch_uid="notifications.invitation_saved")
