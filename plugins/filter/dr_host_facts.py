# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_host_facts
version_added: 0.1.0
short_description: Keep only a DR host's own C(dr_*) variables
description:
  - Reduces a host's variables (an item of C(map('extract', hostvars))) to C(inventory_hostname) and the host's own
    C(dr_*) variables from the C(dr_resources) inventory.
  - Run-once facts are copied to every host of the play; a fact holding whole C(hostvars) entries would carry every
    other fact with it and grow with each wave. Batch tasks keep these small dicts instead.
options:
  _input:
    description: A host's variables.
    type: dict
    required: true
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: List the wave's DRS servers
  ansible.builtin.set_fact:
    wave_hosts: >-
      {{ ansible_play_batch | map('extract', hostvars) | map('enterprise_dr.orchestration.dr_host_facts')
         | selectattr('dr_technology', '==', 'drs') | list }}
  run_once: true
"""

RETURN = r"""
_value:
  description: C(inventory_hostname) and the host's own C(dr_*) variables.
  type: dict
"""

# dr_* variables of the whole inventory (group all), not of one resource.
GROUP_VARIABLES = frozenset(("dr_accounts", "dr_unreachable_accounts", "dr_inventory_problems", "dr_discovered_at"))


def dr_host_facts(host):
    return {key: host[key] for key in host
            if key == "inventory_hostname" or (key.startswith("dr_") and key not in GROUP_VARIABLES)}


class FilterModule:
    def filters(self):
        return {"dr_host_facts": dr_host_facts}
