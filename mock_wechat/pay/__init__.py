"""The `pay` service: state keyed by mch_id (orders, refunds, notifications), shared by API v2 and v3."""
