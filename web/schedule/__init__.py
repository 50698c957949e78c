"""The schedule over HTTP: channel, exports, operators' API, pages, imports."""
