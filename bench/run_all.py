"""`make bench`: every benchmark, full size, one after the other (about 10 minutes on 2 cores).

    .venv/bin/python bench/run_all.py [--smoke]

Each script also runs on its own; see bench/README.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    extra = sys.argv[1:]
    status = 0
    for script in ("webhook_bench.py", "lookup_bench.py", "send_bench.py"):
        print(f"\n=== {script} {' '.join(extra)}", flush=True)
        status |= subprocess.call([sys.executable, str(HERE / script), *extra])
    return status


if __name__ == "__main__":
    sys.exit(main())
