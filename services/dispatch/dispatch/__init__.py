"""Dispatch: complaints become work orders that are classified, assigned, timed, escalated and closed.

Where things are: ``service`` declares the service (indexes, routes, handlers, the scanner loop);
``app`` and ``worker`` are its two processes. ``api`` holds the HTTP views, one module per concept,
and ``schemas`` their marshmallow shapes. ``work_orders`` holds the use cases (read what a decision
needs, decide with ``domain``, write and emit), ``handlers`` the event handlers and ``escalation``
the SLA scanner. ``domain`` is pure: no I/O, no MongoDB operators, no marshmallow. ``store`` is the
only package that touches MongoDB.
"""
