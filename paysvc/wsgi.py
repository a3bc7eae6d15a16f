"""WSGI entry point (gunicorn paysvc.wsgi): Django's handler, with the short middleware stack for
lean views (paysvc/lean.py)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysvc.settings")

from paysvc.lean import get_wsgi_application

application = get_wsgi_application()
