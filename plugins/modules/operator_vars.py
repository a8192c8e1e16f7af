#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: operator_vars
version_added: 0.1.0
short_description: Refuse an operator's unknown, reserved or out-of-range playbook variables before any change
description:
  - Checks the operator's variables of one of the collection's playbooks against that playbook's spec
    (C(plugins/plugin_utils/operator_specs.py), described for operators in C(docs/operations.md)).
  - Every extra variable (C(-e name=value), C(-e '{...}'), C(-e @file), AWX surveys and extra variables) is operator
    input. A name the playbook does not take is refused with the nearest valid name
    (C(unknown variable aproval_mode; did you mean approval_mode?)); internal names (C(ansible_*), C(awx_*),
    C(tower_*), C(molecule_*)) are let through.
  - C(environment) is refused naming C(env). Ansible hands the play C([]) for this reserved word, which would
    otherwise widen the run to every environment of the customer.
  - Each value is checked for its type, its accepted values and its range (timeouts more than 0, poll interval
    1 or more, thresholds 0 or more); each message names the variable, the value given and the fix.
  - Also returns RV(controller), whether C(ansible-playbook) has a terminal on standard input, so that the plan
    refuses interactive approval up front where nobody can answer. This needs no C(ansible.cfg) setting (unlike
    the C(enterprise_dr.orchestration.dr_controller) vars plugin).
  - This is an action plugin; it always runs on the controller and changes nothing.
options:
  playbook:
    description: The playbook whose variables are checked.
    type: str
    required: true
    choices: [approve, cancel, demo, deploy_access, discover, drill, failback, failover, history, prepare, readiness,
              report, setup_hub, status, validate_failback]
attributes:
  check_mode:
    support: full
    description: The variables are checked in check mode as well; nothing changes either way.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff to show.
  platform:
    support: full
    platforms: all
    description: Runs on the controller, whatever the target host.
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Refuse bad operator variables before anything changes
  enterprise_dr.orchestration.operator_vars:
    playbook: failover
  register: operator

- name: Use the controller facts
  ansible.builtin.debug:
    msg: "A terminal is attached: {{ operator.controller.interactive }}"
"""

RETURN = r"""
playbook:
  description: The playbook whose variables were checked.
  returned: always
  type: str
  sample: failover
given:
  description: The names of the operator's extra variables (internal names left out).
  returned: always
  type: list
  elements: str
  sample: [customer, env]
operator_vars:
  description: The valid operator variables, converted to their types.
  returned: always
  type: dict
  sample: {customer: acme, poll_interval: 5}
errors:
  description: One message per problem, naming the variable, the value given and the fix. Empty when valid.
  returned: always
  type: list
  elements: str
  sample: ["unknown variable aproval_mode; did you mean approval_mode? fix: -e approval_mode=..."]
controller:
  description: The controller process.
  returned: always
  type: dict
  contains:
    interactive:
      description: Whether C(ansible-playbook) has a terminal on standard input (false when it cannot tell).
      type: bool
    host:
      description: The controller's host name.
      type: str
    pid:
      description: The process ID of C(ansible-playbook).
      type: int
"""

from ansible.module_utils.basic import AnsibleModule

# The playbooks with a spec (plugins/plugin_utils/operator_specs.py PLAYBOOK_SPECS; a unit test keeps them equal).
PLAYBOOKS = ['approve', 'cancel', 'demo', 'deploy_access', 'discover', 'drill', 'failback', 'failover', 'history',
             'prepare', 'readiness', 'report', 'setup_hub', 'status', 'validate_failback']


def main():
    module = AnsibleModule(argument_spec={"playbook": {"type": "str", "required": True, "choices": PLAYBOOKS}},
                           supports_check_mode=True)
    module.fail_json(msg="operator_vars runs as an action plugin on the controller; call it by its FQCN "
                         "enterprise_dr.orchestration.operator_vars")


if __name__ == "__main__":
    main()
