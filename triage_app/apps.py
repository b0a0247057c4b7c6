from django.apps import AppConfig


class TriageAppConfig(AppConfig):
    name = "triage_app"
    verbose_name = "Complaint triage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from triage_app import signals

        signals.connect()
