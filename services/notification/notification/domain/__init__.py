"""Notification's pure rules: channel mapping, quiet hours and back-off, message content, masking."""
