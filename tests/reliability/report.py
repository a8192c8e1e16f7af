"""Markdown tables of the campaign's figures: python -m tests.reliability.report [results.jsonl]."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.reliability.campaign import RESULTS


def main(path=RESULTS):
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    faults = [r for r in rows if r["suite"] == "faults"]
    retries = [r for r in rows if r["suite"] == "retries"]
    crashes = [r for r in rows if r["suite"] == "crash"]
    out = ["| case | operation | expected | outcome | record | seconds | requests | throttled answers | 5xx answers |"
           " max jobs per server |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in faults:
        out.append(f"| {r['case']} | {r['operation']} | {r['expected']} | {r['outcome']} | {r['status']} | "
                   f"{r['seconds']} | {r['requests']} | {r['throttled']} | {r['server_errors']} | "
                   f"{r.get('max_jobs_per_server', '-')} |")
    out += ["", "| crash point | killed after s | re-run s | re-run rc | records | final status |"
            " max jobs per server |", "|---|---|---|---|---|---|---|"]
    for r in crashes:
        out.append(f"| {r['case']} | {r['killed_after_seconds']} | {r['rerun_seconds']} | {r['rc']} | {r['records']} | "
                   f"{r['status']} | {r['max_jobs_per_server']} |")
    out += ["", "| service and throttle | calls | completed | requests | retries | seconds |",
            "|---|---|---|---|---|---|"]
    for r in retries:
        out.append(f"| {r['case']} | {r['calls']} | {r['completed']} | {r['requests']} | {r['retries']} | "
                   f"{r['seconds']} |")
    print("\n".join(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
