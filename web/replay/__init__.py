"""The replay catalog over HTTP, and the pictures drawn for it."""
