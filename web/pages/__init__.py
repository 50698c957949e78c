"""Page parts every feature shares: error pages, broadcast lookups, share bar."""
