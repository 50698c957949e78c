"""Moderation over HTTP: API, console, audit, who may comment."""
