"""trove_clone: Database as a Service with OpenStack Trove's API."""
import warnings

# oslo.service imports its eventlet backend, and eventlet warns at import
# that it is deprecated. No trove_clone service runs on eventlet; the
# warning only alarms operators reading trove-manage's output.
warnings.filterwarnings('ignore', message='\\s*Eventlet is deprecated',
                        category=Warning)
