# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_failback_servers
version_added: 0.1.0
short_description: Map forward DRS servers to their FAILBACK source servers for a failback launch
description:
  - Takes the per-server rows of M(enterprise_dr.orchestration.drs_failback_readiness) and returns the
    C(servers) entries M(enterprise_dr.orchestration.drs_launch_into_instance),
    M(enterprise_dr.orchestration.drs_recover) and M(enterprise_dr.orchestration.drs_recovery_validate) take for the
    FAILBACK source servers - in the original region, pinned to launch into the original instance.
  - Rows without a FAILBACK source server are left out.
  - The companion filter C(dr_failback_record_entries) turns those modules' rows (keyed by FAILBACK server) back
    into execution record entries of the forward servers.
options:
  _input:
    description: The readiness rows (C(servers) of M(enterprise_dr.orchestration.drs_failback_readiness)).
    type: list
    elements: dict
    required: true
  keys:
    description: Keep only these keys.
    type: list
    elements: str
  stopped_only:
    description: Only servers whose original instance is stopped (not launched into yet).
    type: bool
    default: false
  hosts:
    description:
      - The forward servers' host facts (C(dr_host_facts)); each entry then carries its host's
        C(dr_health_check_url) as C(health_check_url).
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Launch the FAILBACK servers into the original instances
  enterprise_dr.orchestration.drs_recover:
    servers: "{{ readiness.servers | enterprise_dr.orchestration.dr_failback_servers(keys=['source_server_id',
                 'account_id', 'region', 'hostname', 'target_instance_id']) }}"
    run_id: "{{ dr_run.execution_id }}"
    customer: acme
"""

RETURN = r"""
_value:
  description:
    - One dict per server with C(source_server_id) (the FAILBACK server), C(account_id), C(region) (original),
      C(hostname), C(target_instance_id) and C(expected_instance_id) (the original instance), C(expected_private_ip),
      C(forward_source_server_id), and C(health_check_url) when O(hosts) gives one.
  type: list
  elements: dict
"""

from collections.abc import Mapping

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.record_entries import make_entry
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.drs_summary import summary


def dr_failback_servers(rows, keys=None, stopped_only=False, hosts=None):
    health = {h.get("dr_source_server_id"): h.get("dr_health_check_url") for h in hosts or [] if isinstance(h, Mapping)}
    entries = []
    for row in rows or []:
        if not isinstance(row, Mapping) or not row.get("failback_source_server_id"):
            continue
        if stopped_only and row.get("original_state") != "stopped":
            continue
        entry = {
            "source_server_id": row["failback_source_server_id"],
            "account_id": row.get("staging_account_id"),
            "region": row.get("original_region"),
            "hostname": row.get("hostname"),
            "target_instance_id": row.get("original_instance_id"),
            "expected_instance_id": row.get("original_instance_id"),
            "expected_private_ip": row.get("original_private_ip"),
            "forward_source_server_id": row.get("source_server_id"),
            "health_check_url": health.get(row.get("source_server_id")) or None,
        }
        if keys:
            entry = {k: v for k, v in entry.items() if k in keys and v is not None}
        entries.append(entry)
    return entries


AFTER_KEYS = ("job_id", "launch_status", "recovery_instance_id", "ec2_instance_id", "ec2_state", "private_ip",
              "launched_into_target", "passed", "action", "actions", "failback_source_server_id",
              "reversed_source_server_id", "replication_state")


def dr_failback_record_entries(rows, readiness_rows, hosts, phase):
    """Execution record entries of the forward servers for module rows keyed by FAILBACK server."""
    forward = {}
    for row in readiness_rows or []:
        if isinstance(row, Mapping):
            forward[row.get("source_server_id")] = row
            if row.get("failback_source_server_id"):
                forward[row["failback_source_server_id"]] = row
    by_server = {h.get("dr_source_server_id"): h for h in hosts or [] if isinstance(h, Mapping)}
    entries = []
    for row in rows or []:
        pair = forward.get(row.get("source_server_id"))
        if pair is None:
            continue
        host = by_server.get(pair["source_server_id"]) or {}
        failed = bool(row.get("raw_error") or row.get("error") or row.get("passed") is False
                      or row.get("launch_status") == "FAILED")
        running = row.get("launch_status") not in (None, "LAUNCHED")
        after = {k: row[k] for k in AFTER_KEYS if row.get(k) is not None}
        if row.get("source_server_id") != pair.get("source_server_id"):
            after["failback_source_server_id"] = row.get("source_server_id")
        error = row.get("raw_error") or row.get("error")
        if not error and row.get("passed") is False:
            error = "; ".join(f"{n}: {c.get('detail')}" for n, c in (row.get("checks") or {}).items()
                              if not c.get("passed"))
        status = "failed" if failed else ("running" if running else "succeeded")
        entry = make_entry(
            resource=pair.get("resource") or host.get("dr_arn") or pair["source_server_id"],
            name=pair.get("hostname") or host.get("inventory_hostname"),
            technology="drs", wave=host.get("dr_wave"), phase=phase, status=status,
            account_id=pair.get("account_id"), region=pair.get("region"),
            before={
                "source_server_id": pair["source_server_id"],
                "failback_source_server_id": pair.get("failback_source_server_id"),
                "original_instance_id": pair.get("original_instance_id"),
                "original_private_ip": pair.get("original_private_ip"),
                "dr_instance_id": pair.get("dr_instance_id"),
                "staging_account_id": pair.get("staging_account_id"),
            },
            after=after, job_ids=[row["job_id"]] if row.get("job_id") else None,
            summary=f"failback {summary(phase, after, status)}",
            error=error or None,
            remediation="fix the cause named in the error and re-run failback.yml (it resumes)" if error else None)
        entries.append(entry)
    return entries


def dr_failback_instance(row):
    """The original instance of a readiness row, as M(enterprise_dr.orchestration.drs_source_instance) takes it."""
    return {"instance_id": row.get("original_instance_id"), "account_id": row.get("original_account_id"),
            "region": row.get("original_region"), "hostname": row.get("hostname")}


class FilterModule:
    def filters(self):
        return {"dr_failback_servers": dr_failback_servers, "dr_failback_record_entries": dr_failback_record_entries,
                "dr_failback_instance": dr_failback_instance}
