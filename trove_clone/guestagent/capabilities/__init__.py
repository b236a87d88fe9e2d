"""The capabilities a guest engine may implement, each a small interface.

=============  ==========================  ==============================
capability     interface                   the agent calls
=============  ==========================  ==============================
lifecycle      :mod:`.lifecycle`           prepare, start, stop, health
accounts       :mod:`.accounts`            users, databases, root
overrides      :mod:`.overrides`           configuration groups
upgrade        :mod:`.upgrade`             pre_upgrade, post_upgrade
modules        :mod:`.modules`             the sql module type's runs
backup         :mod:`.backup`              create_backup, restores
=============  ==========================  ==============================

Each module's docstring states the contract; its base class implements
the algorithm and an engine overrides small hooks. An engine names the
classes of the capabilities it implements in its descriptor
(:mod:`trove_clone.common.engines`); asking for another is answered by
:func:`trove_clone.common.engines.require` with Trove's not-supported
error.
"""
