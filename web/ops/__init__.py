"""Operating the service: status page, metrics, backups, retention."""
