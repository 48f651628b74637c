"""The code tables as data (tracker/esms/code_table.py, and Zalo's in tracker/esms/zalo_table.py):
every entry bilingual with a known class, each code listed once, every eSMS code of
esms-api/bang-ma-loi.md present."""

from __future__ import annotations

import ast
import re

import pytest

from tests.esms.test_codes import BANG_MA_LOI
from tests.support import ROOT
from tracker.esms import code_table, zalo_table
from tracker.esms.code_table import CLASSES, ESMS, RETRY_LATER, UNKNOWN, Entry
from tracker.esms.zalo_table import ZALO

# Letters only Vietnamese writes (with diacritics): a "Vietnamese" text has some.
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)
TABLES = pytest.mark.parametrize("table", [ESMS, ZALO], ids=["esms", "zalo"])


@TABLES
def test_every_entry_has_vietnamese_and_english_text(table):
    for code, entry in table.items():
        assert isinstance(entry, Entry), code
        assert entry.vi.strip() and entry.en.strip() and entry.vi != entry.en, code
        assert VIETNAMESE.search(entry.vi), f"{code}: {entry.vi!r} is not Vietnamese"
        assert entry.en.isascii(), f"{code}: {entry.en!r} is not English"


@TABLES
def test_every_entry_has_a_known_class_and_only_retry_later_says_when(table):
    for code, entry in table.items():
        assert entry.cls in CLASSES and entry.cls != UNKNOWN, code
        assert (entry.when is not None) == (entry.cls == RETRY_LATER), code


def _keys_as_written(path, name: str) -> list[str]:
    """The table's keys as the source writes them: a dict literal keeps only the last of two equal keys."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == name:
            return [k.value for k in node.value.keys]
    raise AssertionError(f"{name} not found")


@pytest.mark.parametrize("module,name", [(code_table, "ESMS"), (zalo_table, "ZALO")])
def test_codes_are_unique(module, name):
    written = _keys_as_written(ROOT / "tracker" / "esms" / f"{module.__name__.rpartition('.')[2]}.py", name)
    assert len(written) == len(set(written)) == len(getattr(module, name))


def test_the_two_tables_share_no_code():
    assert set(ESMS).isdisjoint(ZALO)


def test_every_code_of_bang_ma_loi_is_present():
    assert set(BANG_MA_LOI) <= set(ESMS)
    assert "100" in ESMS and ESMS["100"].cls == code_table.OK
