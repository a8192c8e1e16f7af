"""Turn the sandbox request log, DRS jobs and task timings into the benchmark's figures."""

import math
from collections import Counter
from collections import defaultdict
from datetime import datetime


def epoch(value):
    """Seconds since the epoch from a request-log or DRS timestamp (ISO 8601, ``Z`` or an offset)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if hasattr(value, "timestamp"):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def call_counts(requests):
    """{"total", "by_service": {service: n}, "by_operation": {"service:Operation": n}, "mutating": n}."""
    by_service = Counter(r["service"] for r in requests)
    by_operation = Counter(f"{r['service']}:{r['operation']}" for r in requests)
    return {
        "total": len(requests),
        # Time the sandbox spent answering (its own CPU on the same machine, not the controller's).
        "sandbox_service_seconds": round(sum(r.get("duration_ms") or 0 for r in requests) / 1000, 2),
        "mutating": sum(1 for r in requests if r.get("mutating")),
        "by_service": dict(by_service.most_common()),
        "by_operation": dict(by_operation.most_common()),
    }


def drs_calls(calls):
    """The DRS operations of ``call_counts()``'s result, by operation name (without the ``drs:`` prefix)."""
    return {k.split(":", 1)[1]: v for k, v in calls["by_operation"].items() if k.startswith("drs:")}


def fetch_jobs(sandbox, accounts, region):
    """Every DRS job of the accounts in the region (read after the request log was taken)."""
    found = []
    for account_id in accounts:
        drs = sandbox.client("drs", account_id, region)
        for page in drs.get_paginator("describe_jobs").paginate(filters={}):
            for job in page["items"]:
                found.append({
                    "job_id": job["jobID"], "account_id": account_id, "region": region, "type": job["type"],
                    "status": job["status"], "created": epoch(job.get("creationDateTime")),
                    "ended": epoch(job.get("endDateTime")),
                    "servers": [p["sourceServerID"] for p in job.get("participatingServers", [])],
                    "launched": sum(1 for p in job.get("participatingServers", [])
                                    if p.get("launchStatus") == "LAUNCHED"),
                })
    return found


def wave_jobs(jobs, server_waves):
    """LAUNCH jobs grouped by the wave of their servers: {wave: {first_created, last_ended, jobs, servers ...}}."""
    waves = {}
    for job in jobs:
        if job["type"] != "LAUNCH":
            continue
        job_waves = {server_waves[s] for s in job["servers"] if s in server_waves}
        if not job_waves:
            continue
        wave = min(job_waves)
        entry = waves.setdefault(wave, {"jobs": 0, "servers": 0, "launched": 0, "first_created": None,
                                        "last_created": None, "last_ended": None, "jobs_by_account": Counter()})
        entry["jobs"] += 1
        entry["servers"] += len(job["servers"])
        entry["launched"] += job["launched"]
        entry["jobs_by_account"][f"{job['account_id']}/{job['region']}"] += 1
        entry["first_created"] = min(filter(None, [entry["first_created"], job["created"]]))
        entry["last_created"] = max(filter(None, [entry["last_created"], job["created"]]))
        if job["ended"]:
            entry["last_ended"] = max(filter(None, [entry["last_ended"], job["ended"]]))
    for entry in waves.values():
        entry["jobs_by_account"] = dict(entry["jobs_by_account"])
        entry["drs_span_seconds"] = (round(entry["last_ended"] - entry["first_created"], 3)
                                     if entry["last_ended"] else None)
    return dict(sorted(waves.items()))


def task_occurrences(timing, action_suffix, play_prefix):
    """Start/end (last result) of each run of a task with that action in plays whose name starts so, in order."""
    found = []
    for task in timing.get("tasks", []):
        if task["action"].endswith(action_suffix) and task["play"].startswith(play_prefix):
            end = task.get("last_result") or task.get("end")
            found.append({"start": task["start"], "end": end, "results": task["results"], "skipped": task["skipped"]})
    return [t for t in found if t["results"] and t["results"] > t["skipped"]]


def transitions(waves, recover_tasks, configure_tasks):
    """Wave N's last job end -> wave N+1's first job creation, split into where the time went."""
    numbers = sorted(waves)
    rows = []
    for index, (current, following) in enumerate(zip(numbers, numbers[1:])):
        first, second = waves[current], waves[following]
        if not first.get("last_ended") or not second.get("first_created"):
            continue
        row = {"from_wave": current, "to_wave": following,
               "seconds": round(second["first_created"] - first["last_ended"], 3)}
        if index + 1 < len(recover_tasks) and index + 1 < len(configure_tasks):
            done = recover_tasks[index]["end"]
            config = configure_tasks[index + 1]
            row["detect_seconds"] = round(done - first["last_ended"], 3)
            row["between_waves_seconds"] = round(config["start"] - done, 3)
            row["configure_seconds"] = round(config["end"] - config["start"], 3)
            row["submit_seconds"] = round(second["first_created"] - config["end"], 3)
        rows.append(row)
    return rows


def polls_scheduled(window, poll_interval, first_delay=0.5):
    """How many polls the collection's one wait schedule (plugins/module_utils/waiting.py) makes in ``window``
    seconds: one after each pause, the first pause ``first_delay`` and each doubling up to ``poll_interval``."""
    interval = max(0.2, float(poll_interval))
    delay, elapsed, polls = min(first_delay, interval), 0.0, 0
    while elapsed + delay <= window + 1e-9:
        elapsed += delay
        polls += 1
        delay = min(interval, delay * 2)
    return max(1, polls)


def drs_calls_per_wave(requests, recover_tasks, wave_numbers, poll_interval, servers_per_wave_account):
    """DRS calls made while each wave's drs_recover ran, by account/region and operation, with the poll budget.

    ``describe_jobs_per_poll_interval`` is the DescribeJobs calls over the polls the wait schedule makes in the
    window: at most 1 means no more polling than the schedule."""
    rows = []
    drs = [r for r in requests if r["service"] == "drs"]
    for wave, task in zip(wave_numbers, recover_tasks):
        window = task["end"] - task["start"]
        inside = [r for r in drs if task["start"] <= epoch(r["time"]) <= task["end"] + 0.05]
        by_scope = defaultdict(Counter)
        for r in inside:
            by_scope[f"{r['account']}/{r['region']}"][r["operation"]] += 1
        for scope, ops in sorted(by_scope.items()):
            polls_allowed = polls_scheduled(window, poll_interval) if poll_interval else None
            servers = servers_per_wave_account.get((wave, scope.split("/")[0]), 0)
            rows.append({
                "wave": wave, "scope": scope, "window_seconds": round(window, 3), "servers": servers,
                "start_recovery": ops.get("StartRecovery", 0),
                "start_recovery_expected": math.ceil(servers / 100) if servers else 0,
                "describe_jobs": ops.get("DescribeJobs", 0),
                "describe_jobs_per_poll_interval": round(ops.get("DescribeJobs", 0) / polls_allowed, 2)
                if polls_allowed else None,
                "operations": dict(ops.most_common()),
            })
    return rows


def task_breakdown(timing, wall_seconds):
    """Where a playbook's wall time went: batch modules, per-host tasks, run-once bookkeeping, includes, the rest."""
    categories = Counter()
    per_task = defaultdict(lambda: {"seconds": 0.0, "runs": 0, "results": 0})
    for task in timing.get("tasks", []):
        seconds = (task.get("end") or task["start"]) - task["start"]
        action = task["action"]
        if action in ("include_tasks", "include_role", "import_tasks", "import_role", "meta") or action.endswith(
                (".include_tasks", ".include_role", ".meta")):
            category = "includes and meta"
        elif action.startswith("enterprise_dr.orchestration.") and task["run_once"]:
            category = "batch modules (run_once, enterprise_dr)"
        elif task["run_once"]:
            category = "run_once bookkeeping (set_fact, assert, debug)"
        else:
            category = "per-host tasks"
        categories[category] += seconds
        once = ", run_once" if task["run_once"] else ""
        key = f"{task['play'].split(' - ')[0]} | {task['name']} ({action.split('.')[-1]}{once})"
        per_task[key]["seconds"] += seconds
        per_task[key]["runs"] += 1
        per_task[key]["results"] += task["results"]
    in_tasks = sum(categories.values())
    categories["outside tasks (startup, inventory, play setup)"] = max(wall_seconds - in_tasks, 0.0)
    top = sorted(per_task.items(), key=lambda item: -item[1]["seconds"])[:15]
    return {
        "categories": {k: round(v, 2) for k, v in categories.most_common()},
        "top_tasks": [{"task": k, "seconds": round(v["seconds"], 2), "runs": v["runs"], "host_results": v["results"]}
                      for k, v in top],
        "task_runs": len(timing.get("tasks", [])),
        "host_results": sum(t["results"] for t in timing.get("tasks", [])),
    }


MODULE_PREFIXES = (("drs_", "drs"), ("aurora_", "aurora"), ("rds_", "rds"), ("elasticache_", "elasticache"),
                   ("memorydb_", "memorydb"), ("ecs_", "ecs"), ("lambda_", "lambda"), ("route53_", "route53"),
                   ("opensearch_", "opensearch"), ("autoscaling_", "autoscaling"), ("eventbridge_", "eventbridge"),
                   ("efs_", "efs"), ("fsx_", "fsx"))


def module_runs(timing):
    """``{phase: {technology: runs}}``: the collection's module runs of a playbook (a task that ran a module for at
    least one host, once), by the play's phase and the technology whose adapter role (or module name) it belongs to;
    the engine's own (records, metrics, notifications) count as ``engine``."""
    runs = defaultdict(Counter)
    for task in timing.get("tasks", []):
        action = task["action"]
        if not action.startswith("enterprise_dr.orchestration.") or task["results"] <= task["skipped"]:
            continue
        phase = task["play"].split(" ")[0].upper()
        module = action.rsplit(".", 1)[-1]
        role = task["name"].split(" : ", 1)[0] if " : " in task["name"] else ""
        technology = role.rsplit(".", 1)[-1][len("adapter_"):] if ".adapter_" in role or role.startswith(
            "adapter_") else next((t for prefix, t in MODULE_PREFIXES if module.startswith(prefix)), "engine")
        runs[phase][technology] += 1
    return {phase: dict(counter) for phase, counter in runs.items()}
