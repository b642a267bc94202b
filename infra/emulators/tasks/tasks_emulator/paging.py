"""List paging. A token names the last item returned, so pages stay consistent while
items come and go between calls."""

import base64
import binascii
from bisect import bisect_right

from .errors import invalid

_PREFIX = "tasks-emulator-v1:"


def page(names: list[str], page_size: int, token: str, max_size: int) -> tuple[list[str], str]:
    """One page of the sorted `names`, and the token of the next page ('' if none)."""
    if page_size < 0:
        raise invalid("page_size must not be negative")
    size = min(page_size or max_size, max_size)
    start = bisect_right(names, _decode(token)) if token else 0
    chosen = names[start : start + size]
    more = start + size < len(names)
    return chosen, _encode(chosen[-1]) if more and chosen else ""


def _encode(last: str) -> str:
    return base64.urlsafe_b64encode((_PREFIX + last).encode()).decode()


def _decode(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(_PREFIX):
        raise invalid("Invalid page_token")
    return text.removeprefix(_PREFIX)
