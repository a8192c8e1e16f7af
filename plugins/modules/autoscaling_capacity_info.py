#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: autoscaling_capacity_info
short_description: Read the capacity of Auto Scaling group pairs (primary and DR region) before a failover
version_added: 0.2.0
description:
  - For each Auto Scaling group of a wave (the inventory host is the DR region's group; its twin in the primary region
    has the same name), reads both groups in one call per account and region and returns, per group, the capacity
    of the side that serves now (min, max, desired) and of the side that takes over.
  - PREFLIGHT records each row's RV(groups[].before) in the execution record, so ACTIVATE restores the captured
    capacity even after the serving side was scaled down by an interrupted run.
  - A side whose region does not answer is reported (C(reachable=false)), not an error, so an emergency failover
    can go on with the C(dr:desired-count) tag.
  - Reads only.
options:
  hosts:
    description:
      - The wave's Auto Scaling resources, each the host's C(dr_*) variables (C(dr_arn), C(inventory_hostname),
        C(dr_account_id), C(dr_resource_name), C(dr_primary_region), C(dr_dr_region), C(dr_tags)).
    type: list
    elements: dict
    required: true
  direction:
    description: C(failover) serves from the DR region afterwards, C(failback) from the primary region again.
    type: str
    choices: [failover, failback]
    default: failover
  primary_region:
    description: The run's primary region (default each host's account's).
    type: str
  dr_region:
    description: The run's DR region (default each host's account's).
    type: str
  customer:
    description:
      - The run's customer. When given, a group on either side whose own C(Customer) (or C(Environment)) tag is out
        of scope makes its row C(failed), so PREFLIGHT refuses it before any change.
    type: str
  environment:
    description: The run's environment (with O(customer)).
    type: str
    aliases: [env]
extends_documentation_fragment:
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Capture the capacity the DR groups take over
  enterprise_dr.orchestration.autoscaling_capacity_info:
    hosts: "{{ adapter_hosts }}"
    direction: failover
  register: capacity
"""

RETURN = r"""
groups:
  description: One row per group pair.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The host's ARN (the DR region's group)., type: str}
    name: {description: The inventory host., type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    summary: {description: One line for people., type: str}
    before:
      description: C(capacity) (min_size, max_size, desired_capacity of the serving side), C(source_region),
        C(target_region), C(target_capacity).
      type: dict
    source: {description: "The serving side now (name, arn, capacity, in_service, reachable).", type: dict}
    target: {description: The side that takes over., type: dict}
"""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import autoscaling as asg
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs as pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation


def main():
    argument_spec = dict(
        hosts=dict(type="list", elements="dict", required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        primary_region=dict(type="str"),
        dr_region=dict(type="str"),
        customer=dict(type="str"),
        environment=dict(type="str", aliases=["env"]),
        **ACCOUNTS_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        factory = ClientFactory(module, p["accounts"])
        found = asg.read_sides(factory, p["hosts"], p["direction"], p["primary_region"], p["dr_region"])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    rows = []
    for host in p["hosts"]:
        source_region, target_region = pairs.sides(host, p["direction"], p["primary_region"], p["dr_region"])
        source, target = asg.side(found, host, source_region), asg.side(found, host, target_region)
        before = {"source_region": source_region, "target_region": target_region,
                  "capacity": source.get("capacity"), "target_capacity": target.get("capacity")}
        name = host["dr_resource_name"]
        violations = [scope_violation(f"Auto Scaling group {name} in {one['region']}", one["tags"], p["customer"],
                                      p["environment"]) for one in (source, target) if one.get("exists")]
        violations = [v for v in violations if v] if p["customer"] else []
        if violations:
            text = "; ".join(v["message"] for v in violations)
            result = pairs.row(host, "failed", f"out of scope: {text}", before=before, error=text,
                               remediation="leave the group out of the run (dr_technologies or its dr:enabled tag) or "
                                           "fix the twin's Customer/Environment tags")
        elif not target.get("exists"):
            why = target.get("error") or f"no Auto Scaling group {name} in {target_region}"
            result = pairs.row(host, "failed", f"the group that takes over is missing: {why}", before=before,
                               error=why, remediation=f"create the group {name} in {target_region} (pilot light, "
                               "capacity 0) with the same name as the serving group, or leave it out of the run")
        elif not source.get("exists"):
            why = source.get("error") or f"no Auto Scaling group {name} in {source_region}"
            result = pairs.row(host, "succeeded", f"serving side not readable ({why}): ACTIVATE uses the recorded "
                               "capacity or dr:desired-count", before=before)
        else:
            result = pairs.row(host, "succeeded", f"{name}: {source_region} serves with "
                               f"{asg.capacity_text(source['capacity'])} (min/max/desired), {target_region} "
                               f"holds {asg.capacity_text(target['capacity'])}", before=before)
        result.update(source=source, target=target)
        rows.append(result)
    module.exit_json(changed=False, groups=rows)


if __name__ == "__main__":
    main()
