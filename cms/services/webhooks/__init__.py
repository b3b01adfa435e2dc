"""Signed webhooks (Standard Webhooks 1.0) from an outbox, with a delivery log."""
