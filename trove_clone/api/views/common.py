"""Formatting shared by the views."""
import datetime


def timestamp(value: datetime.datetime | None) -> str | None:
    """Trove's timestamp format: ISO 8601 without microseconds."""
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat()
