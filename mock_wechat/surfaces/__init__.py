"""Wire surfaces: each one protocol over a service, with thin handlers."""
