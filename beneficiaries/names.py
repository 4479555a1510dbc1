"""Personal names in the registry: one rule for every door (API, admin, CSV and XLSX imports), applied
by services.clean_person.

A name is what a clerk reads off an identity card, so it holds:
- Chinese characters, including the extension blocks (A to I, and the compatibility ideographs that
  rare characters in names are sometimes stored as) and 〇;
- Latin letters (with their accents: foreign names and romanised minority names);
- the middle dot U+00B7 that separates the parts of minority and foreign names (买买提·艾力), between
  two parts only; the look-alikes clerks type instead (・ • ‧ ･ ∙ ⋅ and the like) become U+00B7;
- spaces, a run of blanks (also the full-width space U+3000) collapsing to one.

It refuses control characters, invisible formatting characters (bidi embeddings, overrides and
isolates U+202A–U+202E and U+2066–U+2069, the marks U+200E/U+200F/U+061C, zero-width characters,
the BOM, soft hyphens), names with no visible character, and anything else. Invisible characters
would make two records look alike while comparing different (a duplicate that a search by name does
not find) and bidi controls make a list show text in another order than it is stored (the
"Trojan Source" trick); no real name needs them.

The text is NFC-normalised first (a letter typed as base + combining accent and the precomposed
letter are the same name). Full-width Latin letters (Ａ) become ASCII, as an input method produces them
by accident.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

NAME_MAX = 50
MIDDLE_DOT = "\u00b7"

# Characters typed for the middle dot of a name, all shown as a raised dot.
_DOT_LOOKALIKES = {
    "\u30fb": MIDDLE_DOT,  # ・ katakana middle dot (Chinese and Japanese input methods)
    "\uff65": MIDDLE_DOT,  # ･ half-width katakana middle dot
    "\u2022": MIDDLE_DOT,  # • bullet
    "\u2027": MIDDLE_DOT,  # ‧ hyphenation point (Taiwanese input methods)
    "\u2219": MIDDLE_DOT,  # ∙ bullet operator
    "\u22c5": MIDDLE_DOT,  # ⋅ dot operator
    "\u2e31": MIDDLE_DOT,  # ⸱ word separator middle dot
    "\ua78f": MIDDLE_DOT,  # ꞏ Latin letter sinological dot
    "\u0387": MIDDLE_DOT,  # · Greek ano teleia (NFC makes it U+00B7 too)
}
_FULLWIDTH_LATIN = {
    c: c - 0xFEE0 for r in ((0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for c in range(r[0], r[1] + 1)
}
_TRANSLATE = {**{ord(k): v for k, v in _DOT_LOOKALIKES.items()}, **_FULLWIDTH_LATIN}

# Blank characters that collapse into one space (others, like tab or line breaks, are refused as
# control characters).
_BLANKS = re.compile(r"[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_SPACE_AROUND_DOT = re.compile(r" ?\u00b7 ?")

# Bidi controls and marks, named separately from other format characters in the message.
_BIDI = frozenset(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C],
)

# Chinese characters: CJK unified ideographs and their extensions A to I, the compatibility
# ideographs (less their unassigned code points), and 〇 (U+3007, ideographic zero, used in names).
# The blocks are reserved for ideographs, so a character of an extension newer than Python's Unicode
# tables (H and I on Python 3.11) is accepted too.
_HAN = (
    "\u3007"
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uf900-\ufa6d\ufa70-\ufad9"  # compatibility ideographs
    "\U00020000-\U0002a6df"  # extension B
    "\U0002a700-\U0002ebef"  # extensions C, D, E, F
    "\U0002ebf0-\U0002ee5f"  # extension I
    "\U0002f800-\U0002fa1f"  # compatibility ideographs supplement
    "\U00030000-\U000323af"  # extensions G, H
)
# Latin letters: basic, Latin-1 supplement (not × and ÷), extended A and B, extended additional.
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
_NAME_CHARACTER = re.compile(f"[ \u00b7{_HAN}{_LATIN}]")
_NAME = re.compile(f"[ \u00b7{_HAN}{_LATIN}]+")


def is_name_character(char: str) -> bool:
    """A Chinese character, a Latin letter, the middle dot or a space."""
    return _NAME_CHARACTER.fullmatch(char) is not None


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def normalise_name(raw: object) -> str:
    """The stored form of a name, without judging it: NFC, look-alike dots as U+00B7, full-width Latin
    as ASCII, blanks collapsed, no blanks at the ends or around a dot. Also used for name searches,
    so a search typed with ・ finds a name stored with ·."""
    text = unicodedata.normalize("NFC", str(raw or "")).translate(_TRANSLATE)
    text = _BLANKS.sub(" ", text).strip(" ")
    return _SPACE_AROUND_DOT.sub(MIDDLE_DOT, text)


def clean_name(raw: object) -> str:
    """The normalised name, or ValidationError naming the first rule it breaks."""
    name = normalise_name(raw)
    if (
        _NAME.fullmatch(name)
        and len(name) <= NAME_MAX
        and name.replace(" ", "").replace(MIDDLE_DOT, "")
        and not (name.startswith(MIDDLE_DOT) or name.endswith(MIDDLE_DOT) or MIDDLE_DOT * 2 in name)
    ):
        return name  # the common case, in one regular-expression match (imports check 100,000s)
    for char in name:
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValidationError(
                _("The name contains a control character (%(code)s); retype it.")
                % {"code": _codepoint(char)},
                code="control",
            )
        if ord(char) in _BIDI:
            raise ValidationError(
                _("The name contains a text-direction control (%(code)s), which no name needs.")
                % {"code": _codepoint(char)},
                code="bidi",
            )
        if category in ("Cf", "Zl", "Zp", "Mn", "Me", "Cs", "Co", "Cn"):
            raise ValidationError(
                _("The name contains an invisible or combining character (%(code)s); retype it.")
                % {"code": _codepoint(char)},
                code="invisible",
            )
    if not name:
        raise ValidationError(_("The name is required."), code="required")
    if not name.replace(" ", "").replace(MIDDLE_DOT, ""):
        raise ValidationError(_("The name has no visible character."), code="blank")
    for char in name:
        if not is_name_character(char):
            shown = char if char.isprintable() else _codepoint(char)
            raise ValidationError(
                _(
                    "The name may contain only Chinese characters, Latin letters, the middle dot · "
                    "and spaces (not %(char)s)."
                )
                % {"char": shown},
                code="character",
            )
    if name.startswith(MIDDLE_DOT) or name.endswith(MIDDLE_DOT) or MIDDLE_DOT * 2 in name:
        raise ValidationError(
            _("The middle dot · stands between two parts of a name, once."), code="dot_position"
        )
    if len(name) > NAME_MAX:
        raise ValidationError(
            _("The name has at most %(n)d characters.") % {"n": NAME_MAX}, code="max_length"
        )
    return name


_NUMERALS = "〇一二三四五六七八九"


def make_name(prefix: str, seq: int) -> str:
    """A valid, numbered name for test data and benchmarks (names hold no digits): 测试 + 一〇二."""
    return prefix + "".join(_NUMERALS[int(d)] for d in str(seq))
