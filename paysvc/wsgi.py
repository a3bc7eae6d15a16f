"""WSGI entry point (gunicorn paysvc.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysvc.settings")

application = get_wsgi_application()
