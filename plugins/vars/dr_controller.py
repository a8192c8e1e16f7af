# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_controller
version_added: 0.1.0
short_description: Tell plays whether the controller has an interactive terminal
description:
  - Sets C(dr_controller_interactive) to true when C(ansible-playbook) runs with a terminal on standard input.
  - Sets C(dr_controller_host) and C(dr_controller_pid), the host and process ID of C(ansible-playbook), so a
    second controller cannot drive a run that is still running (the
    O(enterprise_dr.orchestration.execution_record#module:controller) option).
  - Approval gates use it to refuse the interactive mode up front when nobody can answer (cron, CI, schedulers),
    because C(ansible.builtin.pause) does not wait in that case and would return an empty answer.
  - Plugins running in Ansible's worker processes cannot see the controller's terminal (their standard
    input is C(/dev/null)); vars plugins run in the controller process, so this one can.
  - Enable it with C(vars_plugins_enabled = host_group_vars, enterprise_dr.orchestration.dr_controller), for playbooks
    of your own that read these variables. The repository's C(ansible.cfg) does not enable it, because Ansible loads
    and calls an enabled vars plugin for every host on every variable lookup, which at 1,000 hosts costs more than
    the rest of working out their variables.
  - The playbooks do not rely on it; their PLAN step asks the same of the
    M(enterprise_dr.orchestration.operator_vars) action, which needs no enablement (an installed collection
    run from a directory without this repository's C(ansible.cfg) refuses exactly the same).
options:
  stage:
    ini:
      - key: stage
        section: vars_dr_controller
    env:
      - name: ANSIBLE_VARS_PLUGIN_STAGE
extends_documentation_fragment:
  - ansible.builtin.vars_plugin_staging
"""

from ansible.plugins.vars import BaseVarsPlugin

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.controller import controller_facts


class VarsModule(BaseVarsPlugin):

    def get_vars(self, loader, path, entities, cache=True):
        super().get_vars(loader, path, entities)
        facts = controller_facts()
        return {
            "dr_controller_interactive": facts["interactive"],
            "dr_controller_host": facts["host"],
            "dr_controller_pid": facts["pid"],
        }
