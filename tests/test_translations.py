"""The dashboard's catalogs: every string Babel extracts has a Vietnamese translation, and the .mo files are fresh.

Extraction runs exactly as ``make i18n-extract`` does (babel.cfg, the same keywords), over
the templates, the dashboard's Python (flash and error messages included) and the eSMS code
meanings. The compiled .mo files are committed; a .mo that no longer matches its .po fails
here, so `make i18n-compile` is never forgotten.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.support import ROOT

CATALOGS = ROOT / "tracker" / "translations"
VI = CATALOGS / "vi" / "LC_MESSAGES" / "messages.po"
# The Makefile's I18N_KEYWORDS, as Babel's API takes them.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")
_TAG = re.compile(r"</?[a-z]+")


def extracted() -> dict[tuple[str | None, str], list[str]]:
    """(context, msgid) -> where it was found, for every string of the dashboard."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(ROOT / "babel.cfg"))
    found: dict[tuple[str | None, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((context, msgid), []).append(f"{filename}:{lineno}")
    return found


def catalog(path: Path):
    with open(path, "rb") as f:
        return read_po(f)


def test_the_makefile_extracts_with_the_same_keywords():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "I18N_KEYWORDS := -k lazy_gettext -k lazy_pgettext:1c,2" in makefile


def test_extraction_finds_templates_flashes_and_errors():
    found = extracted()
    sources = {where.split(":")[0] for places in found.values() for where in places}
    assert {
        "tracker/templates/dashboard/base.html",
        "tracker/templates/dashboard/login.html",
        "tracker/dashboard/forward_panel.py",
        "tracker/dashboard/views.py",
    } <= sources
    assert (None, "Wrong password.") in found  # an error message
    assert (None, "%(count)s failed delivery put back in the queue.") in found  # a flash message
    # Code meanings are bilingual at their source (tracker/esms/codes.py), not catalog entries.
    assert "tracker/esms/codes.py" not in sources
    assert ("status", "delivered") in found


def test_every_dashboard_string_has_a_vietnamese_translation():
    vi = catalog(VI)
    problems = []
    for (context, msgid), where in sorted(extracted().items(), key=lambda kv: kv[1][0]):
        entry = vi.get(msgid, context=context)
        strings = (
            entry.string
            if entry is not None and isinstance(entry.string, tuple)
            else ((entry.string,) if entry is not None else ())
        )
        if entry is None or not all(strings) or entry.fuzzy:
            problems.append(f"{where[0]}: {msgid!r} has no Vietnamese translation")
            continue
        for text in strings:
            # The same %(name)s values and the same markup, or the page breaks or loses information.
            if sorted(_PLACEHOLDER.findall(text)) != sorted(_PLACEHOLDER.findall(msgid)):
                problems.append(f"{where[0]}: {msgid!r}: placeholders differ in {text!r}")
            if sorted(_TAG.findall(text)) != sorted(_TAG.findall(msgid)):
                problems.append(f"{where[0]}: {msgid!r}: markup differs in {text!r}")
    assert not problems, "run `make i18n-update`, translate, then `make i18n-compile`:\n" + "\n".join(problems)


def test_vietnamese_translations_are_vietnamese():
    """Not English copied across: most strings carry Vietnamese letters (ă â đ ê ô ơ ư or a tone mark)."""
    vi = catalog(VI)
    marks = re.compile(r"[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]", re.I)
    entries = [m for m in vi if m.id]
    plain = [m.id for m in entries if not marks.search(m.string[0] if isinstance(m.string, tuple) else m.string)]
    # A few are names, codes or symbols in any language ("OA", "SMSID", "API", "%(file)s: %(what)s.").
    assert len(plain) <= 12, plain


@pytest.mark.parametrize("po", sorted(CATALOGS.glob("*/LC_MESSAGES/messages.po")), ids=lambda p: p.parts[-3])
def test_compiled_catalogs_match_their_po_files(po):
    """The committed .mo says what its .po says (otherwise: `make i18n-compile`)."""
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make i18n-compile`"
    with open(mo, "rb") as f:
        compiled = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    wanted: dict[object, str] = {}
    for m in catalog(po):
        if not m.id or m.fuzzy:
            continue
        key = m.id if m.context is None else f"{m.context}\x04{m.id}"
        if isinstance(m.id, tuple):
            key = m.id[0] if m.context is None else f"{m.context}\x04{m.id[0]}"
            for i, text in enumerate(m.string):
                if text:
                    wanted[(key, i)] = text
        elif m.string:
            wanted[key] = m.string
    compiled = {k: v for k, v in compiled.items() if k != ""}  # the header
    assert compiled == wanted, "stale .mo: run `make i18n-compile`"
