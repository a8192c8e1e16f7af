# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_record_entries
version_added: 0.1.0
short_description: Turn DRS module results into execution record resource entries
description:
  - Joins per-server rows returned by M(enterprise_dr.orchestration.drs_recover),
    M(enterprise_dr.orchestration.drs_recovery_validate), M(enterprise_dr.orchestration.drs_recovery_instance) or
    M(enterprise_dr.orchestration.drs_source_instance) with the inventory hosts they belong to, and returns the
    resource entries M(enterprise_dr.orchestration.execution_record) merges (docs/execution_record.md).
  - C(before) carries what failback needs from before the change (source instance, target instance and private
    IP, staging account); C(after) what the phase produced.
options:
  _input:
    description: The module's per-server rows (C(servers) or C(instances)).
    type: list
    elements: dict
    required: true
  hosts:
    description: Host variable dicts of the wave's DRS hosts.
    type: list
    elements: dict
    required: true
  phase:
    description: The lifecycle phase.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Record each server's launch
  enterprise_dr.orchestration.execution_record:
    action: update
    execution_id: "{{ dr_run.execution_id }}"
    resources: "{{ recover.servers | enterprise_dr.orchestration.dr_record_entries(wave_hosts, 'INSTANTIATE') }}"
"""

RETURN = r"""
_value:
  description: Resource entries keyed by C(resource) (the source server ARN).
  type: list
  elements: dict
"""

from collections.abc import Mapping

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.record_entries import host_fields
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.record_entries import make_entry
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.drs_summary import summary

AFTER_KEYS = ("job_id", "launch_status", "recovery_instance_id", "ec2_instance_id", "ec2_state", "private_ip",
              "launched_into_target", "state", "passed", "action", "actions", "checks", "recovery_point_time",
              "recovery_started_at")


def _status(row):
    if row.get("raw_error") or row.get("passed") is False or row.get("launch_status") == "FAILED":
        return "failed"
    if row.get("launch_status") not in (None, "LAUNCHED"):
        return "running"
    return "succeeded"


def _error(row):
    if row.get("raw_error"):
        return row["raw_error"], "read the DRS job log of this server, fix the cause, and re-run to resume"
    failed = [(name, check) for name, check in (row.get("checks") or {}).items() if not check.get("passed")]
    if failed:
        return ("; ".join(f"{name}: {check.get('detail')}" for name, check in failed),
                "; ".join(check.get("fix") or "" for _name, check in failed))
    return None, None


def dr_record_entries(rows, hosts, phase):
    by_server = {}
    by_instance = {}
    for host in hosts or []:
        if isinstance(host, Mapping):
            if host.get("dr_source_server_id"):
                by_server[host["dr_source_server_id"]] = host
            if host.get("dr_source_instance_id"):
                by_instance[host["dr_source_instance_id"]] = host
    entries = []
    for row in rows or []:
        host = by_server.get(row.get("source_server_id")) or by_instance.get(row.get("instance_id"))
        if host is None:
            continue
        target = host.get("dr_target") or {}
        fields, targets = host_fields(host)
        before = {
            "source_server_id": host.get("dr_source_server_id"),
            "source_instance_id": host.get("dr_source_instance_id"),
            "source_region": host.get("dr_primary_region"),
            "target_instance_id": target.get("instance_id"),
            "target_private_ip": target.get("private_ip"),
            "staging_account_id": host.get("dr_staging_account_id") or host.get("dr_account_id"),
        }
        if row.get("instance_id") and row.get("before"):
            before["source_state"] = row["before"].get("state")
            if row["before"].get("private_ip"):
                before["source_private_ip"] = row["before"]["private_ip"]
        after = {k: row[k] for k in AFTER_KEYS if row.get(k) is not None}
        status = _status(row)
        error, remediation = _error(row)
        entries.append(make_entry(
            phase=phase, status=status, before=before, after=after,
            job_ids=[row["job_id"]] if row.get("job_id") else None,
            summary=summary(phase, after, status), error=error, remediation=remediation, **fields, **targets))
    return entries


class FilterModule:
    def filters(self):
        return {"dr_record_entries": dr_record_entries}
