# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_record_keys
version_added: 0.1.0
short_description: The execution record keys of inventory hosts
description:
  - Returns, for each DR host, the C(resource) key its entries have in the execution record (docs/execution_record.md),
    which is the host's C(dr_arn), else its C(dr_source_server_id), else its C(inventory_hostname). This is the rule
    every record entry is written with, so the result selects exactly these hosts' entries.
  - Use it with the C(resources) option of M(enterprise_dr.orchestration.execution_record_info) to read a wave's
    entries instead of the whole run's, which grow with the estate.
options:
  _input:
    description: Host variable dicts (items of C(map('extract', hostvars)) or of C(dr_host_facts)).
    type: list
    elements: dict
    required: true
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Read the wave's entries of the run's record
  enterprise_dr.orchestration.execution_record_info:
    execution_id: "{{ dr_run.execution_id }}"
    with_resources: true
    resources: "{{ wave_hosts | enterprise_dr.orchestration.dr_record_keys }}"
"""

RETURN = r"""
_value:
  description: The record key of each host that has one, in the order given, without repeats.
  type: list
  elements: str
"""

from collections.abc import Mapping

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.record_entries import host_fields


def dr_record_keys(hosts):
    keys = []
    for host in hosts or []:
        if isinstance(host, Mapping):
            key = host_fields(host)[0]["resource"]
            if key and key not in keys:
                keys.append(key)
    return keys


class FilterModule:
    def filters(self):
        return {"dr_record_keys": dr_record_keys}
