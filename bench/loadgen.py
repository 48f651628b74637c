"""A small HTTP load generator for machines without wrk (the smoke tests use it).

    python bench/loadgen.py BASE_URL PATHS_FILE CONCURRENCY SECONDS [HEADERS_JSON]

Runs CONCURRENCY asyncio clients spread over two processes, each GETting the paths of
PATHS_FILE in order (cycling) with one connection per request, and prints one line:
LOADJSON {"requests": ..., "seconds": ..., "p50_ms": ..., "p99_ms": ..., "errors": ..., "statuses": {...}}
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
import time
from urllib.parse import urlsplit


async def _client(host, port, paths, cursor, deadline, headers, lat, statuses, errors):
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    while time.monotonic() < deadline:
        path = paths[cursor[0] % len(paths)]
        cursor[0] += cursor[1]
        t0 = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Connection: close\r\n\r\n".encode())
            data = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            status = data[9:12].decode() if data.startswith(b"HTTP/") else "???"
        except (TimeoutError, OSError):
            errors[0] += 1
            continue
        lat.append(time.perf_counter() - t0)
        statuses[status] = statuses.get(status, 0) + 1
        if not status.startswith(("2", "3")):
            errors[0] += 1


async def _main(url, paths, n, offset, stride, seconds, headers):
    parts = urlsplit(url)
    lat, statuses, errors = [], {}, [0]
    start = time.monotonic()
    deadline = start + seconds
    cursor = [offset, stride]
    await asyncio.gather(
        *(
            _client(parts.hostname, parts.port, paths, cursor, deadline, headers, lat, statuses, errors)
            for _ in range(n)
        )
    )
    return lat, statuses, errors[0], time.monotonic() - start


def _proc(args):
    return asyncio.run(_main(*args))


def main() -> None:
    url, paths_file, concurrency, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    headers = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    paths = [ln for ln in open(paths_file).read().splitlines() if ln]
    procs = min(2, concurrency)
    shares = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    with multiprocessing.Pool(procs) as pool:
        parts = pool.map(_proc, [(url, paths, shares[i], i, procs, seconds, headers) for i in range(procs)])
    lat = sorted(x for p in parts for x in p[0])
    statuses: dict[str, int] = {}
    for p in parts:
        for k, v in p[1].items():
            statuses[k] = statuses.get(k, 0) + v
    errors = sum(p[2] for p in parts)
    elapsed = max(p[3] for p in parts)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    print(
        "LOADJSON "
        + json.dumps(
            {
                "requests": len(lat),
                "seconds": elapsed,
                "p50_ms": pct(0.50),
                "p99_ms": pct(0.99),
                "errors": errors,
                "statuses": statuses,
            }
        )
    )


if __name__ == "__main__":
    main()
