"""Webhook endpoints, their secrets and delivery log, for admins."""
