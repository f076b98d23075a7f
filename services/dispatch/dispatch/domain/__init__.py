"""Dispatch's pure domain: plain values in, plain values out, time passed in; unit-tested without a database.

- ``workflow``: the state machine (statuses, actions, transitions); ``decide``: what each action
  does to a work order; ``opening``: the work order of a received complaint; ``work_order``: its
  type, timeline entries and event payloads.
- ``classify`` (with ``taxonomy`` and its word lists in ``data/``): what a complaint is about and
  how urgent; ``evaluation``: the classifier measured on labelled texts.
- ``assignment``: who handles a work order; ``roles``: who may take which action.
- ``sla``: policies and deadlines; ``timers``: the targets of one order as actions change them;
  ``escalation``: the steps of a late target.
"""
