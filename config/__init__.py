"""The Django project around the triage app: settings per environment, the project's
URLs and its ASGI entry point. The app itself lives in triage_app/."""
