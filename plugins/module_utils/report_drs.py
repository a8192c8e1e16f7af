# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DRS readiness rows for the readiness report (``report.readiness_report``), from read-only results:
``drs_source_server_info`` (replication, lag, snapshot, launch settings, matched target),
``drs_launch_into_instance`` in check mode (the launch-into plan and its problems) and ``drs_failback_readiness``
(failback prerequisites of failed-over servers). Every failed check carries its fix."""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report import readiness_check

# DRS quotas per account and region (reference/drs/behaviour.md): the default of replicating source servers is
# adjustable through Service Quotas; the job limits are not.
REPLICATING_SERVERS_QUOTA = 300
SERVERS_PER_JOB = 100
ACTIVE_JOBS = 20
SERVERS_IN_ACTIVE_JOBS = 500
READY_STATES = ("CONTINUOUS",)


def _lag_check(server, rpo_minutes):
    lag = server.get("lag_seconds")
    target = None if rpo_minutes in (None, "") else float(rpo_minutes)
    verdict = {"measured_seconds": lag, "target_minutes": target,
               "met": None if lag is None or target is None else lag <= target * 60}
    if verdict["met"] is False:
        check = readiness_check("replication_lag", False, f"replication lag {lag} s exceeds the RPO target of "
                                f"{target:g} min", "find what slows replication (bandwidth to the staging subnet, "
                                "disk write rate, throttling) or raise dr:rpo-target if the target is wrong")
    elif lag is None:
        check = readiness_check("replication_lag", None, "no lag reported")
    else:
        within = f" within {target:g} min" if target is not None else " (no RPO target)"
        check = readiness_check("replication_lag", True, f"lag {lag} s" + within)
    return verdict, check


def drs_readiness_rows(hosts, source_servers, launch_plans=None, launch_problems=None, failback=None):
    """One readiness row per DRS inventory host (``dr_*`` host variables)."""
    by_id = {s.get("source_server_id"): s for s in source_servers or []}
    plans = {p.get("source_server_id"): p for p in launch_plans or []}
    failback_rows = {f.get("source_server_id"): f for f in failback or []}
    problems_by_host = {}
    for sentence in launch_problems or []:
        for host in hosts:
            name = host.get("dr_hostname") or host.get("inventory_hostname")
            if name and name in str(sentence):
                problems_by_host.setdefault(host.get("dr_source_server_id"), []).append(str(sentence))
    rows = []
    for host in hosts or []:
        sid = host.get("dr_source_server_id")
        server = by_id.get(sid)
        name = host.get("inventory_hostname") or host.get("dr_hostname") or sid
        checks = []
        row = {"resource": host.get("dr_arn") or sid, "name": name, "technology": "drs",
               "customer": host.get("dr_customer"), "environment": host.get("dr_environment"),
               "account_id": host.get("dr_account_id"), "region": host.get("dr_resource_region"),
               "wave": host.get("dr_wave"), "priority": host.get("dr_priority"),
               "rpo_target_minutes": host.get("dr_rpo_target"), "checks": checks}
        if server is None:
            checks.append(readiness_check("source_server", False, f"source server {sid} not found in DRS of "
                                          f"{row['account_id']}/{row['region']}",
                                          "install the replication agent on the source, or fix the resource's "
                                          "account and region"))
            row.update(replication_state=None, lag={}, launch_into=None, failback=None)
            rows.append(row)
            continue
        state = server.get("replication_state")
        row["replication_state"] = state
        row["last_snapshot_date_time"] = server.get("last_snapshot_date_time")
        fb = failback_rows.get(sid)
        if fb is not None:
            # Failed over: it runs in the DR region on its target; what matters now is the way back.
            row["lag"] = {}
            row["launch_into"] = "failed over: runs on " + str(fb.get("recovery_instance_id") or "its target")
            row["failback"] = "ready" if fb.get("passed") else "blocked: " + ", ".join(fb.get("blocking") or [])
            checks.append(readiness_check("failed_over", None, "forward replication and launch-into checks do not "
                                          "apply until failback; failback prerequisites below"))
            for check_name, check in (fb.get("checks") or {}).items():
                if isinstance(check, dict) and check.get("passed") is not None:
                    severity = "warning" if check_name in (fb.get("warnings") or []) else "critical"
                    checks.append(readiness_check(f"failback_{check_name}", check.get("passed"), check.get("detail"),
                                                  check.get("fix"), severity=severity))
            rows.append(row)
            continue
        checks.append(readiness_check(
            "replication_state", state in READY_STATES, f"replication {state}",
            "wait for initial sync to finish; if it is STALLED or DISCONNECTED, check the agent on the source, "
            "outbound TCP 1500 to the staging subnet and the replication server's health in the DRS console"))
        row["lag"], lag_check = _lag_check(server, host.get("dr_rpo_target"))
        checks.append(lag_check)
        strategy = host.get("dr_recovery_strategy") or "launch-into-instance"
        target = server.get("matched_target") or {}
        plan = plans.get(sid) or {}
        if strategy == "launch-into-instance":
            own = problems_by_host.get(sid) or []
            if not target.get("instance_id") and not plan.get("target"):
                checks.append(readiness_check(
                    "launch_into_target", False, "; ".join(own) or f"no stopped target named {server.get('hostname')}",
                    f"tag one stopped instance in {row['account_id']}/{host.get('dr_dr_region') or row['region']} "
                    f"Name={server.get('hostname')} and AWSDRS=AllowLaunchingIntoThisInstance, or set "
                    "dr:recovery-strategy=new-instance"))
                row["launch_into"] = None
            else:
                target = plan.get("target") or target
                row["launch_into"] = f"{target.get('instance_id')} ({target.get('name')}, {target.get('state')})"
                stopped = target.get("state") in (None, "stopped")
                checks.append(readiness_check(
                    "launch_into_target", stopped and not own,
                    f"{target.get('instance_id')} {target.get('state') or ''}".strip() + (
                        "; " + "; ".join(own) if own else ""),
                    f"stop {target.get('instance_id')}: DRS launches only into a stopped target" if not own else
                    "; ".join(own)))
                if plan.get("changes"):
                    checks.append(readiness_check(
                        "launch_settings", True, "a failover will first set " + ", ".join(plan["changes"]),
                        severity="warning"))
        else:
            row["launch_into"] = f"strategy {strategy}"
        row["failback"] = "not failed over"
        rows.append(row)
    return rows


def drs_quotas(hosts, source_servers):
    """Per account and region: replicating servers against the quota, and the jobs one full launch needs."""
    groups = {}
    for server in source_servers or []:
        key = (server.get("account_id"), server.get("region"))
        groups.setdefault(key, {"replicating": 0})
        if server.get("replication_direction", "FAILOVER") == "FAILOVER":
            groups[key]["replicating"] += 1
    in_scope = {}
    for host in hosts or []:
        key = (host.get("dr_account_id"), host.get("dr_resource_region"))
        in_scope[key] = in_scope.get(key, 0) + 1
    rows = []
    for (account, region), counts in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        used = counts["replicating"]
        rows.append({"account_id": account, "region": region, "name": "replicating source servers", "used": used,
                     "limit": REPLICATING_SERVERS_QUOTA, "passed": used <= REPLICATING_SERVERS_QUOTA,
                     "fix": "request a higher 'Maximum number of replicating source servers' in Service Quotas"})
        servers = in_scope.get((account, region), 0)
        jobs = -(-servers // SERVERS_PER_JOB) if servers else 0
        rows.append({"account_id": account, "region": region, "name": "recovery jobs for every in-scope server "
                     f"({SERVERS_PER_JOB} per job)", "used": jobs, "limit": ACTIVE_JOBS, "passed": jobs <= ACTIVE_JOBS,
                     "fix": "the run queues the jobs beyond the limit; split the waves to keep the RTO"})
        rows.append({"account_id": account, "region": region, "name": "servers in active jobs", "used": servers,
                     "limit": SERVERS_IN_ACTIVE_JOBS, "passed": servers <= SERVERS_IN_ACTIVE_JOBS,
                     "fix": "keep a wave under 500 servers per account and region; the rest waits for capacity"})
    return rows
