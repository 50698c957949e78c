"""Rendering: Jinja2 templates and the translation catalogs."""
