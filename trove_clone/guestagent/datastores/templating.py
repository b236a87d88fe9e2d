"""Engine configuration files rendered from per-datastore templates.

As in Trove, each datastore has a Jinja2 template,
``trove_clone/templates/<template_dir>/config.template`` (the directory
its engine's descriptor names), rendered with the flavor in the context so
that the engine is sized by the server it runs on
(``{{ flavor.ram // 2 }}M``...). The mysql manager runs on MariaDB and uses
the MariaDB template.

Every template sees:

* ``flavor``: ``{'ram': MB, 'vcpus': N}``;
* ``address``, ``port``: where the engine listens;
* ``data_dir``: the engine's directory on the volume;

plus the paths its own engine needs (socket, pid file, ...). Templates are
rendered with :class:`jinja2.StrictUndefined`: a variable missing from the
context is an error, never an empty string in a configuration file.
"""
import functools
import os

import jinja2

import trove_clone
from trove_clone.common import engines
from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.guestagent.capabilities import overrides

#: Where the per-datastore directories of templates are.
TEMPLATES_DIR = os.path.join(os.path.dirname(trove_clone.__file__),
                             'templates')
#: The template file in each datastore's directory.
TEMPLATE_NAME = 'config.template'


class TemplateError(exception.TroveError):
    """A configuration template is missing or does not render."""


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # Configuration files, not HTML: nothing to escape.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def template_name(manager: str) -> str:
    """The template of ``manager``, relative to :data:`TEMPLATES_DIR`, in
    the directory its engine's descriptor names."""
    descriptor = engines.managers().get(manager)
    if descriptor is None:
        raise TemplateError('No configuration template for the %s '
                            'datastore.' % manager)
    return '%s/%s' % (descriptor.template_dir, TEMPLATE_NAME)


def flavor(ram_mb: int, vcpus: int | None = None) -> dict:
    """The ``flavor`` of the context, as Trove's templates know it.

    ``vcpus`` defaults to this server's (``guest_vcpus``, which the compute
    driver writes next to ``guest_ram_mb``).
    """
    if vcpus is None:
        vcpus = CONF.guest_vcpus
    return {'ram': int(ram_mb), 'vcpus': int(vcpus)}


def render(manager: str, context: dict) -> str:
    """The configuration of ``manager``'s engine for ``context``.

    :raises TemplateError: when there is no template for ``manager``, or it
        does not render (a variable missing from ``context``, a syntax
        error).
    """
    name = template_name(manager)
    try:
        return _environment().get_template(name).render(context)
    except jinja2.TemplateNotFound:
        raise TemplateError('The configuration template %s is missing.'
                            % os.path.join(TEMPLATES_DIR, name))
    except jinja2.TemplateError as error:
        raise TemplateError('The configuration template %s does not '
                            'render: %s' % (name, error))


def write(manager: str, context: dict, path: str,
          owner: tuple[int, int] | None = None) -> str:
    """Render ``manager``'s template into ``path`` and return the text.

    The file is replaced atomically (the engine never reads half a file),
    mode 0600 (MariaDB ignores a world-writable option file; no one but
    the engine's user needs it); ``owner`` is a (uid, gid) to give it to.
    """
    text = render(manager, context)
    overrides.replace_file(path, text, owner)
    return text
