"""Recipient addresses as staff see them: enough to recognise, not enough to copy.

``13800138000`` → ``138****8000``; ``wang.li@example.com`` → ``w******@example.com``; shorter
numbers keep only their last four digits; staff addresses (``role:supervisor``, ``staff:eng-1``)
are not personal and are shown as they are.
"""

from __future__ import annotations


def mask_recipient(address: str | None) -> str | None:
    """Return an address with its middle hidden."""
    if not address:
        return address
    if address.startswith(("role:", "staff:")):
        return address
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}{'*' * max(len(local) - 1, 1)}@{domain}"
    number = address.strip()
    if len(number) >= 11:
        return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}"
    if len(number) >= 7:
        return f"{'*' * (len(number) - 4)}{number[-4:]}"
    return "*" * len(number)
