"""Text normalisation shared by validation, search and moderation.

- ``visible``: NFKC, without format characters (Unicode category Cf: zero-width space and
  joiner, word joiner, soft hyphen, bidi controls), which render as nothing but split words.
- ``words``: the case-folded words of the visible text (underscores separate words too).
- ``skeleton``: what moderation matches on: the visible text with accents removed and every
  letter that looks like a Latin letter or digit replaced by it (the confusables data of
  Unicode TR39, from ``confusable-homoglyphs``), so ``\u0441s\u0430m`` with Cyrillic
  letters reads ``csam``.

The lookalike table is shipped precomputed in ``lookalikes.json`` (25 KiB, ~1,300 entries):
deriving it parses the package's 900 KB data file, ~30 ms of CPU (60-100 under load) on a cold
instance's first prompt. ``derive_latin_lookalikes`` is its definition; a unit test checks the
file equals it for the pinned package, and regenerating it is
``python -c "from genmedia import text; text.write_lookalikes()"`` in ``functions/``.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path

_WORD = re.compile(r"[^\W_]+")
LOOKALIKES_FILE = Path(__file__).with_name("lookalikes.json")


def visible(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if unicodedata.category(c) != "Cf")


def words(text: str) -> list[str]:
    return _WORD.findall(visible(text).casefold())


def skeleton(text: str) -> str:
    """The lookalike-folded words of ``text`` joined by single spaces."""
    table = _latin_lookalikes()
    decomposed = unicodedata.normalize("NFD", visible(text).casefold())
    plain = "".join(table.get(c, c) for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(_WORD.findall(plain.casefold()))


@functools.cache
def _latin_lookalikes() -> dict[str, str]:
    """The table ``derive_latin_lookalikes`` defines, as shipped."""
    table: dict[str, str] = json.loads(LOOKALIKES_FILE.read_text(encoding="ascii"))
    return table


def derive_latin_lookalikes() -> dict[str, str]:
    """Non-ASCII character -> the ASCII letter (or digit) it is confusable with.

    Read from the package's data file rather than its module, which keeps all 9,600 entries
    (several MiB) alive for as long as it is loaded; this table has ~1,300.
    """
    import importlib.resources

    data = importlib.resources.files("confusable_homoglyphs").joinpath("confusables.json")
    confusables: dict[str, list[dict[str, str]]] = json.loads(data.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for char, homoglyphs in confusables.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_twins = [h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii()]
        # Letters before digits: Cyrillic O (U+041E) reads as the letter, not zero.
        ascii_twins = sorted((c for c in ascii_twins if c.isalnum()), key=str.isdigit)
        if ascii_twins:
            table[char] = ascii_twins[0].casefold()
    return table


def lookalikes_json(table: dict[str, str]) -> str:
    """The table as ``lookalikes.json`` holds it: ASCII escapes, sorted, one entry a line."""
    return json.dumps(table, ensure_ascii=True, sort_keys=True, indent=0) + "\n"


def write_lookalikes() -> None:
    """Regenerate ``lookalikes.json`` from the installed confusable-homoglyphs."""
    LOOKALIKES_FILE.write_text(lookalikes_json(derive_latin_lookalikes()), encoding="ascii")
