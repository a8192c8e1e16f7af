# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_adapter_entries
version_added: 0.2.0
short_description: Turn a technology module's per-resource rows into execution record entries
description:
  - The one record-entry schema of the technology adapter contract (docs/adapters.md, section 3). Each row names its
    resource by C(resource) (the host's C(dr_arn)) or C(name) (its inventory hostname) and may carry C(status),
    C(summary), C(before), C(after), C(error), C(remediation), C(replication_lag_seconds) and C(job_ids); the host
    supplies technology, wave, account, region and the RTO/RPO targets.
  - A row that matches no resource of the wave fails the filter instead of being dropped.
options:
  _input:
    description: The module's per-resource rows.
    type: list
    elements: dict
    required: true
  hosts:
    description: The adapter's resources (C(adapter_hosts)).
    type: list
    elements: dict
    required: true
  phase:
    description: The lifecycle phase.
    type: str
    required: true
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Keep each cluster's switchover for the wave's record
  ansible.builtin.set_fact:
    adapter_aurora_entries: >-
      {{ adapter_aurora_entries | default([])
         + (_switch.clusters | enterprise_dr.orchestration.dr_adapter_entries(adapter_hosts, 'ACTIVATE')) }}
"""

RETURN = r"""
_value:
  description: Record entries (resource, name, technology, wave, phase, status, summary, before, after, error and
    remediation).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.record_entries import entries_for_rows


def dr_adapter_entries(rows, hosts, phase):
    try:
        return entries_for_rows(rows, hosts, phase)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"dr_adapter_entries": dr_adapter_entries}
