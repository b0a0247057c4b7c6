"""Settings per environment, each a module that starts from `base`:

- `base`: everything, read from the environment through triage_core.config;
- `local`: what `make up` runs (a generated secret key in var/ when none is set);
- `test`: the unit tests (one process: in-memory channel layer and cache);
- `production`: a deployment (compose.yaml): refuses to start without DJANGO_SECRET_KEY.

DJANGO_SETTINGS_MODULE picks one; manage.py and config.asgi default to `local`.
"""
