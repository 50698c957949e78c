"""Tables owned by `replay`, as numbered migrations (migration n at index n-1)."""

MIGRATIONS: tuple[str, ...] = ()
