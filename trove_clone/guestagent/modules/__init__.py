"""Trove modules on the guest: payloads the control plane sends, applied
to the engine by a driver picked by the module's type (stevedore entry
points in :data:`loader.NAMESPACE`), with a result kept on the volume."""
