"""The catalog's tables agree with the types that validate requests."""

from __future__ import annotations

from typing import get_args

from genmedia.catalog import ASPECT_RATIOS, EXTENSIONS, ID_RE, VARIANTS, Variant
from genmedia.principal import ROLES


def test_validated_variants_are_exactly_the_stored_ones() -> None:
    stored = {variant for table in VARIANTS.values() for variant in table}
    assert set(get_args(Variant)) == stored
    formats = [f for table in VARIANTS.values() for f in table.values()]
    assert all(EXTENSIONS[f.content_type] == f.extension for f in formats)
    # The library grid signs thumbnails of every asset type.
    assert all({"original", "thumbnail"} <= set(table) for table in VARIANTS.values())


def test_ratios_and_roles_in_their_documented_order() -> None:
    assert ASPECT_RATIOS == ("1:1", "3:4", "4:3", "9:16", "16:9")
    assert ROLES == ("admin", "user", "viewer")


def test_ids_are_one_url_segment_of_safe_characters() -> None:
    assert ID_RE.fullmatch("a" * 128) and not ID_RE.fullmatch("a" * 129)
    assert not ID_RE.fullmatch("a/b") and not ID_RE.fullmatch("a:b") and not ID_RE.fullmatch("")
