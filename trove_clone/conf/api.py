"""Options of the REST API service (group DEFAULT)."""
from oslo_config import cfg

api_opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0',
                       help='IP address the API listens on.'),
    cfg.PortOpt('bind_port', default=8779,
                help='Port the API listens on.'),
    cfg.IntOpt('trove_api_workers', min=1,
               help='Number of trove-api worker processes sharing the '
                    'listening socket. Defaults to the number of CPUs, as '
                    'Trove. 1 serves in the parent process itself.'),
    cfg.IntOpt('trove_api_threads', default=8, min=1,
               help='Threads of each API worker process. Threads serve '
                    'complete requests only: connections still sending '
                    'theirs wait on the event loop.'),
    cfg.IntOpt('backlog', default=4096, min=1,
               help='Connections the kernel queues for trove-api to '
                    'accept (listen backlog).'),
    cfg.IntOpt('api_connection_limit', default=1000, min=1,
               help='Most connections trove-api keeps open at once; beyond '
                    'it new connections wait in the backlog. Lowered to '
                    'fit the open-file limit (ulimit -n).'),
    cfg.IntOpt('client_socket_timeout', default=60, min=1,
               help='Seconds an idle client connection (nothing sent, or '
                    'between keep-alive requests) is kept open.'),
    cfg.IntOpt('client_request_timeout', default=60, min=1,
               help='Seconds a client has to send one complete request, '
                    'headers and body, once it has started: a client that '
                    'trickles its request is disconnected after them.'),
    cfg.StrOpt('auth_strategy', default='keystone',
               choices=[('keystone', 'Validate tokens with keystonemiddleware '
                                     'auth_token.'),
                        ('noauth', 'Trust the X-User-Id, X-Project-Id and '
                                   'X-Roles headers, or a "user:project" '
                                   'token. For the local quick start and '
                                   'tests only.')],
               help='How API requests are authenticated.'),
    cfg.StrOpt('public_endpoint',
               help='Base URL used in the links of API responses, e.g. '
                    'https://db.example.com:8779. When unset, links use '
                    'the Host header of the request if it is one of '
                    'public_hosts, else bind_host and bind_port.'),
    cfg.ListOpt('public_hosts', default=[],
                help='Host headers (host or host:port, e.g. '
                     'db.example.com, 10.0.0.5:8779) that links in '
                     'responses may repeat when public_endpoint is unset. '
                     'Any other Host header is ignored: a client cannot '
                     'make the API hand out links to a host of its '
                     'choosing.'),
    cfg.IntOpt('max_header_line', default=16384,
               help='Longest accepted HTTP header line, in bytes.'),
    cfg.IntOpt('max_request_body_size', default=1024 * 1024 * 8,
               help='Largest accepted request body, in bytes.'),
    cfg.FloatOpt('datastore_cache_ttl', default=1.0, min=0.0,
                 help='Seconds the API may serve the datastore catalogue '
                      '(datastores and versions) from memory. Changes made '
                      'through this API process are seen at once; changes '
                      'made elsewhere (trove-manage, other API processes) '
                      'within this many seconds. 0 disables the cache.'),
    cfg.IntOpt('instances_page_size', default=20, min=1,
               help='Page size for listing instances.'),
    cfg.IntOpt('databases_page_size', default=20, min=1,
               help='Page size for listing databases.'),
    cfg.IntOpt('users_page_size', default=20, min=1,
               help='Page size for listing users.'),
    cfg.IntOpt('backups_page_size', default=20, min=1,
               help='Page size for listing backups.'),
    cfg.IntOpt('configurations_page_size', default=20, min=1,
               help='Page size for listing configuration groups.'),
    cfg.IntOpt('modules_page_size', default=20, min=1,
               help='Page size for listing modules.'),
    cfg.IntOpt('clusters_page_size', default=20, min=1,
               help='Page size for listing clusters.'),
    cfg.IntOpt('http_get_rate', default=200,
               help='Maximum number of GET requests per minute per project.'),
    cfg.IntOpt('http_post_rate', default=200,
               help='Maximum number of POST requests per minute per '
                    'project.'),
    cfg.IntOpt('http_put_rate', default=200,
               help='Maximum number of PUT requests per minute per project.'),
    cfg.IntOpt('http_delete_rate', default=200,
               help='Maximum number of DELETE requests per minute per '
                    'project.'),
    cfg.IntOpt('http_mgmt_post_rate', default=200,
               help='Maximum number of mgmt POST requests per minute per '
                    'project.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(api_opts)


def list_opts() -> list:
    return [('DEFAULT', api_opts)]
