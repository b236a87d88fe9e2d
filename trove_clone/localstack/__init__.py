"""Run the OpenStack services the local backend needs on loopback.

Keystone (for the real python-troveclient) and Glance (images) run from
their own virtualenvs (``tools/install-openstack-services``) under
gunicorn, each with a state directory of its own. Used by the quick start
and by the functional tests.
"""
