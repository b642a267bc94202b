"""Equality indexes: per (collection id, field path), the current documents by field value.

An index is built the first time a query filters that field with `==` in a collection or
collection group of that id, and kept current by every install (write, delete, prune, load)
from then on, so a query for one owner's page reads that owner's documents rather than the
whole collection. It describes the latest versions only: reads at an older read time do not
use it. Queries still apply their whole filter to what it returns, so it only narrows the
candidates; its keys are `value_key`s, the same as the `==` filter compares.
"""

from collections.abc import Callable, Iterable, Set

from . import pb
from .paths import FieldPath
from .values import Key, get_field, value_key

Reader = Callable[[str], pb.Document | None]
IndexId = tuple[str, FieldPath]  # (collection id, field path)


class EqualityIndexes:
    def __init__(self) -> None:
        self._names: dict[IndexId, dict[Key, set[str]]] = {}
        self._keys: dict[IndexId, dict[str, Key]] = {}  # each indexed document's current key
        self._paths: dict[str, list[FieldPath]] = {}  # collection id -> its indexed fields

    def names(
        self, index: IndexId, key: Key, members: Callable[[], Iterable[str]], read: Reader
    ) -> Set[str]:
        """Names of the documents whose field equals `key`; builds the index if it is new.

        `members`: every name of the collection group (only called to build the index).
        """
        if index not in self._names:
            self._build(index, members(), read)
        return self._names[index].get(key, _EMPTY)

    def update(self, collection_id: str, name: str, doc: pb.Document | None) -> None:
        """Keep the indexes of `collection_id` current after `name` became `doc`."""
        for path in self._paths.get(collection_id, ()):
            self._set((collection_id, path), name, doc)

    def _build(self, index: IndexId, names: Iterable[str], read: Reader) -> None:
        self._names[index] = {}
        self._keys[index] = {}
        self._paths.setdefault(index[0], []).append(index[1])
        for name in names:
            self._set(index, name, read(name))

    def _set(self, index: IndexId, name: str, doc: pb.Document | None) -> None:
        keys = self._keys[index]
        value = get_field(doc.fields, index[1]) if doc is not None else None
        key = value_key(value) if value is not None else None
        old = keys.get(name)  # never None for an indexed name
        if old == key:
            return
        by_value = self._names[index]
        if old is not None:
            del keys[name]
            members = by_value[old]
            members.discard(name)
            if not members:
                del by_value[old]
        if key is not None:
            keys[name] = key
            by_value.setdefault(key, set()).add(name)


_EMPTY: frozenset[str] = frozenset()
