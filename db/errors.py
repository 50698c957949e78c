"""The storage layer's errors: the same classes whichever engine raised them."""

from __future__ import annotations


class DatabaseError(Exception):
    """Base of every error the storage layer raises on purpose."""


class ConfigurationError(DatabaseError):
    """A `DATABASE_URL` or database server the service cannot use (said precisely)."""


class IntegrityError(DatabaseError):
    """A constraint refused a write (foreign key, check, not null, unique)."""


class UniqueViolation(IntegrityError):
    """A unique or primary-key constraint refused a write."""


class MigrationError(DatabaseError):
    """A migration could not be applied; the database stays at the previous number."""
