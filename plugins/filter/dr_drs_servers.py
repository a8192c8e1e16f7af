# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_drs_servers
version_added: 0.1.0
short_description: Turn DRS hosts of the dr_resources inventory into the server entries the DRS modules take
description:
  - The one place where inventory host variables (C(dr_source_server_id), C(dr_account_id), C(dr_target) ...)
    become the C(servers) entries of the DRS modules (C(source_server_id), C(account_id), C(region) ...).
  - Hosts whose technology is not C(drs) are skipped.
options:
  _input:
    description: Host variable dicts (C(ansible_play_batch | map('extract', hostvars))).
    type: list
    elements: dict
    required: true
  keys:
    description: Keep only these keys (each DRS module accepts its own set). All keys when omitted.
    type: list
    elements: str
  region:
    description:
      - Override of the region (the run's C(dr_region), or C(primary_region) with O(side=source)).
    type: str
  side:
    description:
      - C(recovery) returns the DRS source server entries (in the DRS recovery account and region).
      - C(source) returns the original EC2 instances (C(instance_id), C(account_id), C(region), C(hostname)) on the
        primary side, the entries M(enterprise_dr.orchestration.drs_source_instance) takes.
    type: str
    choices: [recovery, source]
    default: recovery
"""

EXAMPLES = r"""
- name: Launch the wave
  enterprise_dr.orchestration.drs_recover:
    servers: >-
      {{ ansible_play_batch | map('extract', hostvars)
         | enterprise_dr.orchestration.dr_drs_servers(keys=['source_server_id', 'account_id', 'region', 'hostname',
                                                            'priority', 'target_instance_id']) }}
"""

RETURN = r"""
_value:
  description:
    - One dict per DRS host with C(host), C(source_server_id), C(account_id), C(region) (DRS recovery region),
      C(hostname), C(priority), C(target_instance_id) and C(expected_private_ip) (when launching into a
      pre-provisioned target), C(expected_instance_id), C(source_instance_id), C(source_region),
      C(recovery_strategy), C(health_check_url) (from C(dr_health_check_url)).
  type: list
  elements: dict
"""

from collections.abc import Mapping

LAUNCH_INTO = "launch-into-instance"


def dr_drs_servers(hosts, keys=None, region=None, side="recovery"):
    entries = []
    for host in hosts or []:
        if not isinstance(host, Mapping) or host.get("dr_technology") != "drs":
            continue
        if side == "source":
            if host.get("dr_source_instance_id"):
                entries.append({
                    "instance_id": host["dr_source_instance_id"],
                    "account_id": host.get("dr_source_account_id") or host.get("dr_account_id"),
                    "region": region or host.get("dr_primary_region"),
                    "hostname": host.get("dr_hostname") or host.get("inventory_hostname"),
                })
            continue
        target = host.get("dr_target") or {}
        strategy = (host.get("dr_recovery_strategy") or LAUNCH_INTO).strip().lower()
        launch_into = strategy == LAUNCH_INTO and bool(target.get("instance_id"))
        entry = {
            "host": host.get("inventory_hostname"),
            "source_server_id": host.get("dr_source_server_id"),
            "account_id": host.get("dr_account_id"),
            "region": region or host.get("dr_resource_region") or host.get("dr_dr_region"),
            "hostname": host.get("dr_hostname") or host.get("inventory_hostname"),
            "priority": host.get("dr_priority") or "medium",
            "target_instance_id": target.get("instance_id") if launch_into else None,
            "expected_instance_id": target.get("instance_id") if launch_into else None,
            "expected_private_ip": target.get("private_ip") if launch_into else None,
            "source_instance_id": host.get("dr_source_instance_id"),
            "source_region": host.get("dr_primary_region"),
            "recovery_strategy": strategy,
            "health_check_url": host.get("dr_health_check_url") or None,
        }
        if keys:
            entry = {k: v for k, v in entry.items() if k in keys and v is not None}
        entries.append(entry)
    return entries


class FilterModule:
    def filters(self):
        return {"dr_drs_servers": dr_drs_servers}
