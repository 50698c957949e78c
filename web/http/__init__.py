"""HTTP plumbing shared by every feature: errors, headers, request ids, limits, logs."""
