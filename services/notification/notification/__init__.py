"""Propcare's notification service: tells residents and staff what happens to a complaint.

Declared once in ``service`` (``NOTIFICATION``): it records messages from events (``handlers``,
``messages``), sends them from the worker's dispatch loop (``dispatcher``) through one provider per
delivery channel (``providers``), and shows them with their attempts over HTTP (``routes``). It is
the one service that keeps a resident's contact.
"""
