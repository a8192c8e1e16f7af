# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Paired with SCOPE_ARGUMENT_SPEC in plugins/module_utils/scope.py
    DOCUMENTATION = r"""
options:
  customer:
    description:
      - The customer this run is scoped to.
      - Before any change the module reads each resource's own C(Customer) tag and refuses,
        naming the resource, anything tagged for another customer.
    type: str
    required: true
  environment:
    description:
      - Narrows the scope to one environment (the C(Environment) tag), for example C(production).
      - When omitted, every environment of O(customer) is in scope.
    type: str
    aliases: [env]
"""
