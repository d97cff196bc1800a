"""Reliability: a bounded fuzz of every route and concurrent identical requests, against the real server."""
