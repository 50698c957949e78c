"""Citizen questions over HTTP."""
