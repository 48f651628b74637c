"""Every benchmark in bench/ still runs: its --smoke version, in seconds (no timing thresholds here)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.e2e


def bench_database() -> str | None:
    """A database of its own next to the test one: the benches drop and re-create their schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    base, _, name = url.rpartition("/")
    name, _, query = name.partition("?")
    return f"{base}/{name}_bench" + (f"?{query}" if query else "")


def run_bench(script: str, *args: str) -> str:
    cmd = [sys.executable, str(ROOT / "bench" / script), "--smoke", *args]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, f"{script} failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return out.stdout


def test_webhook_bench():
    pg = bench_database()
    args = ["--database-url", pg] if pg else ["--no-postgres"]
    out = run_bench("webhook_bench.py", *args)
    for db in (["postgresql"] if pg else []) + ["sqlite"]:
        assert f"RATIO {db} webhook c=4 ours/reference:" in out, out
        assert f"RATIO {db} webhook c=4 reference/noop:" in out, out
        assert f"RATIO {db} webhook c=4 ours, shared URL/reference:" in out, out
    if pg:
        # Issue 14: the minimal receiver, on its own database, is the target's yardstick.
        assert "RATIO postgresql webhook c=4 ours/minimal:" in out, out
        assert "RATIO postgresql webhook c=4 ours, shared URL/minimal:" in out, out
        assert "RATIO postgresql webhook c=4 minimal/noop:" in out, out
        assert f"ERRORS {db} c=4: 0 " in out, out
        assert f"{db}: 'database is locked' in the server logs: 0" in out, out


def test_lookup_bench():
    pg = bench_database()
    if not pg:
        pytest.skip("the lookup bench needs PostgreSQL (TEST_DATABASE_URL)")
    out = run_bench("lookup_bench.py", "--database-url", pg)
    for kind in ("message", "smsid", "journey"):
        assert f"RATIO lookup {kind} ours/minimal:" in out, out
        assert f"RATIO lookup {kind} ours/reference:" in out, out
        assert f"RATIO lookup {kind} minimal/noop:" in out, out
    assert "Index Scan using" in out and "ERRORS lookups: 0 " in out, out


def test_send_bench():
    pg = bench_database()
    args = ["--database-url", pg] if pg else ["--no-postgres"]
    out = run_bench("send_bench.py", *args)
    for db in (["postgresql"] if pg else []) + ["sqlite"]:
        assert f"RATIO {db} send throughput / target 200:" in out, out
        assert f"LATENCY {db} queued -> accepted when idle:" in out, out


def test_dashboard_bench():
    pg = bench_database()
    if not pg:
        pytest.skip("the dashboard bench needs PostgreSQL (TEST_DATABASE_URL)")
    out = run_bench("dashboard_bench.py", "--database-url", pg)
    assert "EXPLAIN ANALYZE" in out and "under 300 ms at 2,000 messages:" in out, out
