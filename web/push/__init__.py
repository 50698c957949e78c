"""Web Push reminders."""
