"""Staff accounts, sessions, sign-in with providers, roles."""
