"""The taskmanager's flows, one module per operation.

Each module has ``get_flow(**arguments)``: a taskflow flow of the tasks
in ``trove_clone.taskmanager.tasks``, its first task the flow's guard.
The arguments are JSON values: taskflow persists them with the flow (see
``trove_clone.taskmanager.jobs``), so that a taskmanager resuming the
flow builds the same one again.
"""
