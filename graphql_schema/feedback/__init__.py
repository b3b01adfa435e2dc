"""The feedback area: the public form and the staff's work queue."""
