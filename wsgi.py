"""WSGI entry point: ``gunicorn wsgi:app``."""
from desk import create_app

app = create_app()
