"""Resource names (projects/p/databases/d/documents/...) and field paths."""

import re
from functools import lru_cache

from .errors import invalid

FieldPath = tuple[str, ...]
NAME_FIELD: FieldPath = ("__name__",)

# A document id `__id<n>__` (n a non-zero int64, no leading zeros) is a numeric id: Firestore
# orders numeric ids before every string id, by value among themselves.
_NUMERIC_ID = re.compile(r"__id(-?[1-9][0-9]{0,18})__")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# A segment's sort key: (0, n) for a numeric id, (1, s) for a string; PAST_SEGMENTS follows both.
SegmentKey = tuple[int, int | str]
PathKey = tuple[SegmentKey, ...]
PAST_SEGMENTS: PathKey = ((2, ""),)


def segment_key(seg: str) -> SegmentKey:
    if seg.startswith("__id") and (m := _NUMERIC_ID.fullmatch(seg)):
        n = int(m[1])
        if _INT64_MIN <= n <= _INT64_MAX:
            return (0, n)
    return (1, seg)


@lru_cache(maxsize=8192)  # bisecting the sorted name list keys the same names again and again
def path_key(name: str) -> PathKey:
    """Sort key of a resource name: segment by segment, numeric ids before string ids."""
    if "/__id" not in name:
        return tuple([(1, seg) for seg in name.split("/")])
    return tuple([segment_key(seg) for seg in name.split("/")])


def split_database(name: str) -> tuple[str, str]:
    """Return (project, database) for any resource name under a database."""
    parts = name.split("/")
    if len(parts) < 4 or parts[0] != "projects" or parts[2] != "databases" or not parts[1]:
        raise invalid(f'Invalid resource name "{name}".')
    if not parts[3]:
        raise invalid(f'Invalid database in "{name}".')
    return parts[1], parts[3]


def documents_root(project: str, database: str) -> str:
    return f"projects/{project}/databases/{database}/documents"


def check_document_name(name: str) -> None:
    """A document name has an even, non-zero number of segments after `documents`."""
    project, database = split_database(name)
    root = documents_root(project, database) + "/"
    rel = name[len(root) :].split("/") if name.startswith(root) else []
    if not rel or len(rel) % 2 or any(not seg for seg in rel):
        raise invalid(f'Document name "{name}" is not a valid document path.')


def check_parent(parent: str) -> None:
    """A query/list parent is the documents root or a document name."""
    project, database = split_database(parent)
    if parent != documents_root(project, database):
        check_document_name(parent)


def collection_of(name: str) -> str:
    return name.rsplit("/", 1)[0]


def collection_id_of(name: str) -> str:
    return name.rsplit("/", 2)[-2]


@lru_cache(maxsize=4096)
def parse_field_path(text: str) -> FieldPath:
    """Parse a dotted field path where segments may be `backtick quoted` with \\ escapes."""
    segments: list[str] = []
    current: list[str] = []
    i, quoted, closed = 0, False, False
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\" and i + 1 < len(text):
                current.append(text[i + 1])
                i += 1
            elif ch == "`":
                quoted, closed = False, True
            else:
                current.append(ch)
        elif ch == "`" and not current:
            quoted = True
        elif ch == ".":
            segments.append(_segment(current, closed, text))
            current, closed = [], False
        else:
            current.append(ch)
        i += 1
    if quoted:
        raise invalid(f"Invalid field path: {text!r}.")
    segments.append(_segment(current, closed, text))
    return tuple(segments)


def _segment(chars: list[str], quoted: bool, text: str) -> str:
    if not chars and not quoted:
        raise invalid(f"Invalid field path: {text!r}.")
    return "".join(chars)
