"""The feedback form and appeals: submission, the staff queue, notifications, personal data."""
