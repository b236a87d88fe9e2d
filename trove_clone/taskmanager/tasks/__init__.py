"""The tasks the taskmanager's flows are made of.

Each task is a taskflow ``Task`` with an ``execute`` and, where it
changes something, a ``revert`` that undoes it. Tasks take their inputs
from the flow's store (``context``, ``instance_id`` and what the flow
names) and return only JSON values, which taskflow persists in the
control database: a flow resumed by another taskmanager finds them there.
"""
