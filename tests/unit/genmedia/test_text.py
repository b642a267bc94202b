"""Text forms: visible text, words for search, and the skeleton moderation matches on."""

from __future__ import annotations

import pytest

from genmedia import text
from genmedia.text import skeleton, visible, words


def fullwidth(text: str) -> str:
    """ASCII letters as their full-width forms (U+FF21..), which NFKC folds back."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello World", "hello world"),
        ("  many\t\nspaces  ", "many spaces"),
        ("red-hot, sun.lit!", "red hot sun lit"),
        (fullwidth("Full Width"), "full width"),
        ("STRASSE Straße", "strasse strasse"),  # casefold, not lower
        ("\ufb01sh", "fish"),  # the "fi" ligature
        ("", ""),
    ],
)
def test_skeleton(text: str, expected: str) -> None:
    assert skeleton(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cs\u200bam", "csam"),  # zero-width space
        ("cs\u200dam", "csam"),  # zero-width joiner
        ("cs\u2060am", "csam"),  # word joiner
        ("cs\u00adam", "csam"),  # soft hyphen
        ("\u0441s\u0430m", "csam"),  # Cyrillic es and a
        ("c\u0455\u0430m", "csam"),  # Cyrillic dze
        ("Cr\u00e8me br\u00fbl\u00e9e", "creme brulee"),  # accents
        ("c\u0301sam", "csam"),  # a combining accent
        ("\U0001d41c\U0001d42c\U0001d41a\U0001d426", "csam"),  # mathematical bold
        ("\u24d2\u24e2\u24d0\u24dc", "csam"),  # circled letters
        ("\u0399\u039f", "io"),  # Greek capitals that look Latin
        ("\u591c\u306e\u685c", "\u591c\u306e\u685c"),  # other scripts keep their letters
    ],
)
def test_skeleton_folds_what_looks_alike(text: str, expected: str) -> None:
    assert skeleton(text) == expected


def test_visible_drops_format_characters_only() -> None:
    assert visible("\u200b\u2060\ufeff") == ""
    assert visible("a\u200bb c") == "ab c"


def test_words_keep_accents_and_scripts_for_search() -> None:
    assert words("Crème br\u200bûlée, 夜桜") == ["crème", "brûlée", "夜桜"]


def test_the_shipped_lookalike_table_is_the_one_the_pinned_confusables_data_gives() -> None:
    # A new confusable-homoglyphs pin changes what moderation folds; regenerate the file
    # (text.write_lookalikes(), see genmedia/text.py) so the shipped table follows it.
    shipped = text.LOOKALIKES_FILE.read_text(encoding="ascii")
    assert shipped == text.lookalikes_json(text.derive_latin_lookalikes())
