"""Known-vulnerability audit of the pinned dependencies (constraints.txt): pip-audit, with a fallback.

pip-audit asks PyPI's per-version JSON (https://pypi.org/pypi/NAME/VERSION/json) for each pin. Where
that feed cannot be reached (this workplace's PyPI mirror serves only the per-project JSON), the
pins pip-audit had to skip are checked against the per-project JSON instead: its "vulnerabilities"
list is complete for the project's latest release, so a pin equal to the latest release is fully
audited, and an older pin is reported as not audited. Exit 1 only for a known vulnerability;
a service that cannot be reached is reported, never a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
PIP_AUDIT = "pip-audit==2.10.1"
VENV = Path(os.environ.get("TRACKER_AUDIT_VENV", Path(tempfile.gettempdir()) / "tracker-pip-audit"))
PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;#]+)")


def pins() -> dict[str, str]:
    out = {}
    for line in CONSTRAINTS.read_text().splitlines():
        m = PIN.match(line.strip())
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def run_pip_audit() -> tuple[list[dict], list[str], str | None]:
    """(vulnerable deps, names pip-audit skipped, why pip-audit could not run at all)."""
    exe = VENV / "bin" / "pip-audit"
    if not exe.exists():
        venv.create(VENV, with_pip=True)
        done = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", PIP_AUDIT], capture_output=True, text=True)
        if done.returncode != 0:
            return [], [], f"installing {PIP_AUDIT} failed: {done.stderr.strip()[-400:]}"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run(
            [
                str(exe),
                "-r",
                str(CONSTRAINTS),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "-f",
                "json",
                "-o",
                out.name,
            ],
            capture_output=True,
            text=True,
        )
        try:
            report = json.loads(Path(out.name).read_text() or "{}")
        except ValueError:
            report = {}
    if "dependencies" not in report:
        return [], [], f"pip-audit exited {done.returncode}: {done.stderr.strip()[-600:]}"
    vulnerable = [d for d in report["dependencies"] if d.get("vulns")]
    skipped = [d["name"] for d in report["dependencies"] if d.get("skip_reason")]
    return vulnerable, skipped, None


def project_feed(name: str) -> dict | None:
    try:
        with urllib.request.urlopen(PROJECT_JSON.format(name=name), timeout=20) as resp:
            return json.load(resp)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def main() -> int:
    pinned = pins()
    vulnerable, skipped, broken = run_pip_audit()
    if broken:
        print(f"audit: pip-audit could not run ({broken}); checking every pin with the project feed")
        skipped = list(pinned)
    for dep in vulnerable:
        for v in dep["vulns"]:
            print(
                f"VULNERABLE {dep['name']}=={dep['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions', [])) or '-'})"
            )
    print(f"audit: pip-audit checked {len(pinned) - len(skipped)} of {len(pinned)} pins directly")
    unaudited, unreachable, fallback_vulns = [], [], 0
    for name in sorted(skipped):
        version = pinned.get(re.sub(r"[-_.]+", "-", name).lower())
        feed = project_feed(name)
        if version is None:
            continue
        if feed is None:
            unreachable.append(name)
        elif feed.get("info", {}).get("version") != version:
            unaudited.append(f"{name}=={version} (latest {feed.get('info', {}).get('version')})")
        else:
            for v in feed.get("vulnerabilities") or []:
                if not v.get("withdrawn"):
                    fallback_vulns += 1
                    print(
                        f"VULNERABLE {name}=={version}: {v.get('id')} (fixed in {', '.join(v.get('fixed_in') or []) or '-'})"
                    )
    audited_by_feed = len(skipped) - len(unaudited) - len(unreachable)
    print(f"audit: {audited_by_feed} pins checked against PyPI's project feed (pin = latest release)")
    if unaudited:
        print(
            f"audit: NOT audited (older than the latest release; per-version feed unreachable): {', '.join(unaudited)}"
        )
    if unreachable:
        print(f"audit: BLOCKED, no vulnerability service reachable for: {', '.join(unreachable)}")
    found = len(vulnerable) + fallback_vulns
    print(f"audit: {found} known vulnerabilities")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
