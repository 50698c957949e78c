"""Share links, Open Graph metadata, click counts, oEmbed and the player."""
