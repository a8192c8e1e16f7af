# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_adapters
version_added: 0.2.0
short_description: Read the technology registry (which adapter entry point runs where, plan lines)
description:
  - The technology registry (C(plugins/plugin_utils/technologies.py), docs/adapters.md) declares, per technology, its
    resource types, default strategy, the phases and operations it takes part in, and its plan lines. The playbooks
    and roles read it through these filters instead of naming technologies.
  - C(dr_adapters) returns the adapter entry points (C(technology), C(role), C(tasks_from)) to run for the
    technologies present in a wave, for one operation and phase. A technology absent from the list costs nothing.
  - C(dr_supported_technologies) returns the technologies that have an adapter for an operation.
  - C(dr_plan_line) returns the registry's one-line description of what a phase does to a technology.
  - C(dr_technology_spec) returns one technology's registry entry.
options:
  _input:
    description: The technologies present (C(dr_adapters)), the operation (C(dr_supported_technologies)), or a
      technology (C(dr_plan_line), C(dr_technology_spec)).
    type: raw
    required: true
  operation:
    description: failover, drill or failback.
    type: str
  phase:
    description: preflight, instantiate, activate, cleanup or replicate.
    type: str
  emergency:
    description: An emergency failover (the primary region is down).
    type: bool
    default: false
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Run each adapter of the wave
  ansible.builtin.include_role:
    name: "enterprise_dr.orchestration.{{ item.role }}"
    tasks_from: "{{ item.tasks_from }}"
  loop: "{{ ['drs', 'aurora'] | enterprise_dr.orchestration.dr_adapters('failover', 'activate') }}"
"""

RETURN = r"""
_value:
  description: Entry points, technology names, a plan line or a registry entry.
  type: raw
"""

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import technologies as registry


def dr_adapters(present, operation, phase, emergency=False):
    return registry.adapters(present, operation, phase, bool(emergency))


def dr_supported_technologies(operation=None, emergency=False):
    return registry.supported(operation, bool(emergency))


def dr_plan_line(technology, operation, phase, emergency=False):
    return registry.plan_line(technology, operation, phase, bool(emergency))


def dr_technology_spec(technology):
    spec = registry.get(technology)
    return dict(spec, name=technology) if spec else None


class FilterModule:
    def filters(self):
        return {
            "dr_adapters": dr_adapters,
            "dr_supported_technologies": dr_supported_technologies,
            "dr_plan_line": dr_plan_line,
            "dr_technology_spec": dr_technology_spec,
        }
