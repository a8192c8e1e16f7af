"""Markdown rendering of a benchmark result (bench/results/latest.md)."""


def _fmt(value, unit=""):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:.1f}"
    return f"{value}{unit}"


def _ops(counts, limit=8):
    if not counts:
        return "none"
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    text = ", ".join(f"{k} {v}" for k, v in items[:limit])
    return text + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


# The figures a before/after compares: label, how to read it from a result, unit, goal.
COMPARED = (
    ("discovery cold", lambda r: _get(r, "discovery", "cold_seconds_min"), " s", "< 10 s"),
    ("discovery from cache", lambda r: _get(r, "discovery", "cached_seconds_min"), " s", "< 1 s"),
    ("launch-into configuration, first run", lambda r: _get(r, "launch_into", "first", "wall_seconds"), " s", ""),
    ("failover: wall", lambda r: _get(r, "failover", "wall_seconds"), " s", "<= 200 s"),
    ("failover: controller CPU", lambda r: _get(r, "failover", "controller_cpu_seconds"), " s", "<= 200 s"),
    ("failover: all launched (INSTANTIATE end)", lambda r: _get(r, "failover", "instantiate_seconds"), " s", ""),
    ("failover: wave transition, median", lambda r: _get(r, "failover", "transition_seconds_median"), " s",
     "<= 3 s"),
    ("failover: wave transition, max", lambda r: _get(r, "failover", "transition_seconds_max"), " s", ""),
    ("failover: task runs", lambda r: _get(r, "failover", "time_breakdown", "task_runs"), "", ""),
    ("failover: host results", lambda r: _get(r, "failover", "time_breakdown", "host_results"), "", ""),
    ("failover: StartRecovery calls", lambda r: _get(r, "failover", "drs_calls", "StartRecovery"), "", "1 per wave, "
     "account and region"),
    ("modelled RTO, launch into", lambda r: _get(r, "rto", "launch_into", "modelled_rto_minutes"), " min", "< 30 min"),
)


def _get(results, *path):
    value = (results or {}).get("phases") or {}
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def render_comparison(results):
    """The before/after table of a run with --baseline (empty without one)."""
    before = results.get("baseline")
    if not before:
        return []
    lines = ["", f"## Before/after: {before['commit'][:12]} ({before['ref']}) -> this tree, same machine, same options",
             "", f"The baseline run took {_fmt(before.get('seconds'), ' s')} (rc {before.get('returncode')}), load "
             f"average {before.get('machine', {}).get('load_average_at_start')} at its start.", "",
             "| figure | before | after | change | goal |", "|---|---|---|---|---|"]
    for label, read, unit, goal in COMPARED:
        old, new = read(before), read(results)
        if old is None and new is None:
            continue
        change = ""
        if isinstance(old, (int, float)) and isinstance(new, (int, float)) and old:
            change = f"{(new - old) / old * 100:+.0f} %"
        lines.append(f"| {label} | {_fmt(old, unit)} | {_fmt(new, unit)} | {change} | {goal} |")
    for name, error in (before.get("errors") or {}).items():
        lines.append(f"| ERROR in the baseline's {name} | {error.splitlines()[0][:300]} | | | |")
    return lines


def render_markdown(results):
    m, v, p = results["machine"], results["versions"], results["parameters"]
    phases = results.get("phases", {})
    lines = [
        "# Benchmark results",
        "",
        "| | |",
        "|---|---|",
        f"| date | {results['date']} |",
        f"| machine | {m['cores']} cores ({m.get('cpu')}), {m['memory_gib']} GiB memory, "
        f"load average at start {m.get('load_average_at_start')}, at end {results.get('load_average_at_end')} |",
        f"| versions | python {v.get('python')}, ansible-core {v.get('ansible-core')}, boto3 {v.get('boto3')}, "
        f"botocore {v.get('botocore')}, moto {v.get('moto')} |",
        f"| parameters | {p['servers']} servers, {p['waves']} waves, {p['accounts']} accounts, {p['resources']} other "
        f"resources, failover {p.get('failover_servers') or p['servers']} servers, RTO {p['rto_servers']} servers / "
        f"{p['rto_waves']} waves, poll interval {p['poll_interval']} s, repeat {p['repeat']} |",
        f"| seeding | {_fmt(results.get('seed_seconds'), ' s')} |",
        "",
        "| figure | measured | goal |",
        "|---|---|---|",
    ]
    d = phases.get("discovery") or {}
    if "cold_seconds" in d:
        lines += [
            f"| discovery: hosts | {d['hosts']} ({_ops(d['hosts_by_technology'])}); {d['drs_hosts_with_target']} with "
            f"a matched target; {d['invalid_hosts']} invalid | |",
            f"| discovery cold (ansible-inventory --list --flush-cache) | {_fmt(d['cold_seconds_min'], ' s')} "
            f"(runs {d['cold_seconds']}; CPU {_fmt(d['cold_cpu_seconds'], ' s')}, peak RSS "
            f"{_fmt(d['cold_peak_rss_mib'], ' MiB')}) | < 10 s |",
            f"| discovery from cache | {_fmt(d['cached_seconds_min'], ' s')} (runs {d['cached_seconds']}) | < 1 s |",
            f"| discovery from cache, variables not printed (ansible-inventory --graph) | "
            f"{_fmt(d.get('cached_graph_seconds_min'), ' s')} (runs {d.get('cached_graph_seconds')}) | |",
            f"| ansible-inventory start-up alone (-i localhost,) | "
            f"{_fmt(d['ansible_inventory_startup_seconds'], ' s')} | |",
            f"| discovery AWS calls cold | {d['aws_calls_cold']['total']}: "
            f"{_ops(d['aws_calls_cold']['by_operation'])} | |",
            f"| discovery AWS calls from cache | {d['aws_calls_cached']['total']} | 0 |",
        ]
    mt = phases.get("matching") or {}
    for label in ("exact", "fuzzy"):
        if label in mt:
            e = mt[label]
            threshold = f" (threshold {e['fuzzy_threshold']})" if e["fuzzy_threshold"] else ""
            lines.append(
                f"| matching {mt['pairs']} pairs, {label}{threshold}"
                f" | {_fmt(e['cpu_seconds_min'], ' s')} CPU (median {_fmt(e['cpu_seconds_median'], ' s')}); matched "
                f"{e['matched']} ({_ops(e['matched_by_method'])}) | < 0.5 s |")
    li = phases.get("launch_into") or {}
    for run in ("first", "second"):
        if run in li:
            r = li[run]
            lines.append(f"| drs_launch_into_instance, {li['servers']} servers, {run} run | "
                         f"{_fmt(r['wall_seconds'], ' s')} wall; DRS calls {_ops(r['drs_calls'])}; other "
                         f"{_ops(r['other_calls'], 4)} | |")
    f = phases.get("failover") or {}
    if "wall_seconds" in f:
        lines += [
            f"| failover {f['servers']} servers, {f['waves']} waves (DRS time_scale "
            f"{f['drs_settings']['time_scale']}): wall | {_fmt(f['wall_seconds'], ' s')} "
            f"({f['launched']} launched) | |",
            f"| failover: DRS job time (sum of wave spans) | {_fmt(f['drs_job_seconds'], ' s')} | |",
            f"| failover: orchestration overhead (wall - DRS job time) | "
            f"{_fmt(f['orchestration_overhead_seconds'], ' s')} | < 60 s |",
            f"| failover: wave transition (last job end -> next first submit) | median "
            f"{_fmt(f['transition_seconds_median'], ' s')}, max {_fmt(f['transition_seconds_max'], ' s')} | <= 3 s |",
            f"| failover: controller CPU (children) | {_fmt(f['controller_cpu_seconds'], ' s')} (user "
            f"{_fmt(f['controller_cpu_user_seconds'], ' s')}, system "
            f"{_fmt(f['controller_cpu_system_seconds'], ' s')}) | |",
            f"| failover: peak memory (largest process, ru_maxrss) | {_fmt(f['peak_rss_mib'], ' MiB')} | |",
            f"| failover: DRS calls | {_ops(f['drs_calls'], 12)} | |",
        ]
        prepared = f.get("prepare")
        lines.append(
            f"| failover: launch settings prepared ahead (playbooks/prepare.yml, before the failover) | "
            f"{_fmt(prepared['wall_seconds'], ' s')} wall; DRS calls {_ops(prepared['drs_calls'])} | |" if prepared else
            "| failover: launch settings prepared ahead | no: INSTANTIATE configured each wave | |")
        if f.get("timed_out_after_seconds"):
            lines.append(f"| failover: STOPPED by the --timeout after {_fmt(f['timed_out_after_seconds'], ' s')} | "
                         f"figures cover the waves that ran | |")
        bd = f.get("time_breakdown", {})
        for category, seconds in bd.get("categories", {}).items():
            lines.append(f"| failover time: {category} | {_fmt(seconds, ' s')} | |")
    r = phases.get("rto") or {}
    for label in ("launch_into", "new_instance"):
        if label in r:
            e = r[label]
            lines.append(
                f"| modelled RTO, {r['servers']} servers in {r['waves']} waves, {label.replace('_', ' ')} | "
                f"{_fmt(e['modelled_rto_minutes'], ' min')} (DRS jobs {_fmt(e['drs_job_minutes_modelled'], ' min')} + "
                f"orchestration {_fmt(e['orchestration_overhead_minutes'], ' min')}; {e['launched']} launched) | |")
    mx = phases.get("mixed_wave") or {}
    if "runs" in mx:
        for run in mx["runs"].values():
            lines.append(f"| mixed wave: failover of {mx['servers']} servers in {mx['waves']} waves, "
                         f"{' + '.join(run['technologies'])} | {_fmt(run['wall_seconds'], ' s')} wall, CPU "
                         f"{_fmt(run['controller_cpu_seconds'], ' s')}, transition median "
                         f"{_fmt(run['transition_seconds_median'], ' s')}, {run['aws_calls']} AWS calls | |")
        lines += [
            f"| mixed wave: seconds a technology adds to a wave | "
            f"{_fmt(mx['added_seconds_per_technology_per_wave'], ' s')} ({', '.join(mx['added_technologies'])}) | |",
            f"| mixed wave: most module runs a technology adds per wave and phase | "
            f"{_fmt(mx['most_module_runs_per_wave_and_phase'])} | <= 1 |",
        ]
    for name, error in results.get("errors", {}).items():
        lines.append(f"| ERROR in {name} | {error.splitlines()[0][:300]} | |")
    if f.get("transitions"):
        lines += ["", "## Failover wave transitions", "",
                  "| waves | total s | detect (poll) s | between waves (tasks) s | configure next wave s | submit s |",
                  "|---|---|---|---|---|---|"]
        for t in f["transitions"]:
            lines.append(f"| {t['from_wave']} -> {t['to_wave']} | {_fmt(t['seconds'])} | "
                         f"{_fmt(t.get('detect_seconds'))} | {_fmt(t.get('between_waves_seconds'))} | "
                         f"{_fmt(t.get('configure_seconds'))} | "
                         f"{_fmt(t.get('submit_seconds'))} |")
    if f.get("drs_calls_per_wave"):
        lines += ["", "## DRS calls per wave and account/region (while drs_recover ran)", "",
                  "| wave | account/region | servers | StartRecovery (expected) | DescribeJobs | window s | "
                  "DescribeJobs per scheduled poll (waiting.py) |", "|---|---|---|---|---|---|---|"]
        for row in f["drs_calls_per_wave"]:
            lines.append(f"| {row['wave']} | {row['scope']} | {row['servers']} | {row['start_recovery']} "
                         f"({row['start_recovery_expected']}) | {row['describe_jobs']} | "
                         f"{_fmt(row['window_seconds'])} | "
                         f"{_fmt(row['describe_jobs_per_poll_interval'])} |")
    if f.get("time_breakdown", {}).get("top_tasks"):
        lines += ["", "## Failover: the tasks that took longest", "", "| task | seconds | runs | host results |",
                  "|---|---|---|---|"]
        for t in f["time_breakdown"]["top_tasks"]:
            name = t["task"].replace("|", "/")
            lines.append(f"| {name} | {_fmt(t['seconds'])} | {t['runs']} | {t['host_results']} |")
    if mx.get("module_runs_per_wave_and_phase"):
        techs = mx["added_technologies"]
        lines += ["", "## Mixed wave: module runs a technology adds per wave and phase", "",
                  "| phase | " + " | ".join(techs) + " |", "|---|" + "---|" * len(techs)]
        for phase, counts in mx["module_runs_per_wave_and_phase"].items():
            lines.append(f"| {phase} (per wave) | " + " | ".join(_fmt(counts.get(t)) for t in techs) + " |")
        for phase, counts in (mx.get("module_runs_per_run_outside_waves") or {}).items():
            lines.append(f"| {phase} (once per run) | " + " | ".join(_fmt(counts.get(t)) for t in techs) + " |")
    lines += render_comparison(results)
    return "\n".join(lines) + "\n"
