"""The demo shop: a merchant doing the WeChat payment flow right (arrives with a later issue)."""
