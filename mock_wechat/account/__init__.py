"""The `account` service: state keyed by appid (tokens, tickets, OAuth codes, consents, users)."""
