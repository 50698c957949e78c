"""The live page and its comment socket (the transport edge of the hub)."""
