"""How big the outage spool is (tracker/callbacks/spool_size.py): files, bytes and lines of the
``*.jsonl`` files only, lines counted only while the spool is small."""

from __future__ import annotations

from tracker.callbacks import spool_size
from tracker.callbacks.spool_size import measure, size


def test_a_missing_spool_directory_is_an_empty_spool(tmp_path):
    assert size(tmp_path / "absent") == {"files": 0, "bytes": 0, "lines": 0}
    assert measure(tmp_path / "absent") == {"files": 0, "bytes": 0, "lines": 0}


def test_only_jsonl_files_are_counted_with_their_bytes_and_lines(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b'{"x": 1}\n{"x": 2}\n')
    (tmp_path / "claimed-1.jsonl").write_bytes(b'{"y": 1}\n')
    (tmp_path / "done.txt").write_bytes(b"not spooled\nat all\n")
    wanted = {"files": 2, "bytes": 18 + 9, "lines": 3}
    assert size(tmp_path) == wanted
    assert measure(tmp_path) == wanted


def test_lines_are_counted_across_read_chunks(tmp_path):
    line = b"x" * 99 + b"\n"
    (tmp_path / "big.jsonl").write_bytes(line * 2000)  # 200,000 bytes: several 64 KiB chunks
    assert size(tmp_path) == {"files": 1, "bytes": 200_000, "lines": 2000}


def test_past_the_line_counting_limit_lines_are_null_but_files_and_bytes_are_known(tmp_path, monkeypatch):
    (tmp_path / "a.jsonl").write_bytes(b"1\n" * 10)
    (tmp_path / "b.jsonl").write_bytes(b"2\n" * 10)
    monkeypatch.setattr(spool_size, "COUNT_LINES_UP_TO", 39)
    assert measure(tmp_path) == {"files": 2, "bytes": 40, "lines": None}
    monkeypatch.setattr(spool_size, "COUNT_LINES_UP_TO", 40)
    assert measure(tmp_path) == {"files": 2, "bytes": 40, "lines": 20}
