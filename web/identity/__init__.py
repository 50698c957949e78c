"""Who someone is: staff accounts, members, sessions, roles, login limits."""
