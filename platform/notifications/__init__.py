"""Notifications by e-mail: what each participant wants to hear about, the confirmed address mail goes to,
composing each mail and the Celery task that sends it."""
