# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_wave_failures
version_added: 0.1.0
short_description: The failed resources of a wave, by inventory host, from their execution record entries
description:
  - Takes the execution record entries a wave's technology adapters produced (C(dr_record_entries),
    C(dr_failback_record_entries)) and returns, for each entry with C(status=failed), its inventory host and a message
    with the error and the fix.
  - An entry is matched to its host by C(resource) (the host's C(dr_arn)), by C(before.source_server_id) (the host's
    C(dr_source_server_id)) or by C(name) (the host's C(inventory_hostname) or C(dr_hostname)). An entry that matches no
    host of the wave keeps its C(name).
  - The wave role fails exactly these hosts, once, at the end of the wave; its failure policy decides what happens
    to the rest of the run.
options:
  _input:
    description: The wave's execution record entries.
    type: list
    elements: dict
    required: true
  hosts:
    description: The wave's host facts (C(dr_host_facts) of each host).
    type: list
    elements: dict
    required: true
  phase:
    description: The lifecycle phase, to start each message with.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Collect the wave's failures
  ansible.builtin.set_fact:
    wave_failed: "{{ wave_entries | enterprise_dr.orchestration.dr_wave_failures(wave_hosts, 'ACTIVATE') }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - For every failed entry, its inventory hostname, mapped to a message that names the phase, the error and the fix
      (C(ACTIVATE failed) then the error, then C(Fix) and the remediation).
  type: dict
"""

from collections.abc import Mapping


def _host_index(hosts):
    index = {}
    for host in hosts or []:
        if not isinstance(host, Mapping) or not host.get("inventory_hostname"):
            continue
        name = host["inventory_hostname"]
        for key in ("dr_arn", "dr_source_server_id", "dr_hostname", "inventory_hostname"):
            if host.get(key):
                index.setdefault(host[key], name)
    return index


def dr_wave_failures(entries, hosts, phase):
    index = _host_index(hosts)
    failed = {}
    for entry in entries or []:
        if not isinstance(entry, Mapping) or entry.get("status") != "failed":
            continue
        before = entry.get("before") or {}
        host = (index.get(entry.get("resource")) or index.get(before.get("source_server_id"))
                or index.get(entry.get("name")) or entry.get("name") or entry.get("resource"))
        message = f"{phase} failed: {entry.get('error') or 'see its execution record entry'}"
        if entry.get("remediation"):
            message += f". Fix: {entry['remediation']}"
        failed[host] = f"{failed[host]}; {message}" if host in failed else message
    return failed


class FilterModule:
    def filters(self):
        return {"dr_wave_failures": dr_wave_failures}
