#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: lambda_failover_info
short_description: Read Lambda function pairs (primary and DR region) and capture production concurrency
version_added: 0.2.0
description:
  - For each Lambda function of a wave (the inventory host is the DR region's function when both are tagged; its twin
    in the other region has the same name), reads both functions with one client per account and region - the
    configuration, the alias clients invoke (C(dr:alias), else the function's only alias), reserved and provisioned
    concurrency, and the event source mappings of the region (one listing per region, whatever the function count).
  - PREFLIGHT records each row's RV(functions[].before) in the execution record; C(before.production) holds the
    serving function's reserved and provisioned concurrency, which ACTIVATE gives the function that takes over.
  - A side whose region does not answer is reported (C(reachable=false)), not an error, so an emergency failover
    can go on with the C(dr:reserved-concurrency) and C(dr:provisioned-concurrency) tags.
  - Reads only.
options:
  hosts:
    description:
      - The wave's Lambda functions, each the host's C(dr_*) variables (C(dr_arn), C(inventory_hostname),
        C(dr_account_id), C(dr_resource_name), C(dr_lambda), C(dr_primary_region), C(dr_dr_region), C(dr_tags)).
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
      - The run's customer. When given, a function on either side whose own C(Customer) (or C(Environment)) tag is
        out of scope makes its row C(failed), so PREFLIGHT refuses it before any change.
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
- name: Capture the concurrency the DR functions take over
  enterprise_dr.orchestration.lambda_failover_info:
    hosts: "{{ adapter_hosts }}"
    direction: failover
    customer: acme
  register: functions
"""

RETURN = r"""
functions:
  description: One row per function pair.
  returned: always
  type: list
  elements: dict
  contains:
    resource:
      description: The host's ARN.
      type: str
    name:
      description: The inventory host.
      type: str
    status:
      description: C(succeeded) or C(failed).
      type: str
    summary:
      description: One line for people.
      type: str
    before:
      description:
        - C(source_region), C(target_region), C(alias), C(production) (the serving function's reserved and
          provisioned concurrency, its alias version), and the target's alias version, reserved and provisioned
          concurrency.
      type: dict
    source:
      description: The serving function now (alias, versions, concurrency, event sources, reachable).
      type: dict
    target:
      description: The function that takes over.
      type: dict
    error:
      description: What is wrong.
      type: str
    remediation:
      description: The fix.
      type: str
"""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import lambda_function as lam
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs as pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation


def brief(one):
    """A side without its bulky parts (the row keeps what people and the plan read)."""
    keep = ("region", "reachable", "exists", "error", "arn", "alias", "alias_version", "alias_error",
            "reserved_concurrency", "provisioned", "code_sha256", "state")
    result = {k: one.get(k) for k in keep if k in one}
    result["event_sources"] = [{"uuid": m["uuid"], "state": m["state"], "event_source_arn": m["event_source_arn"]}
                               for m in one.get("event_sources") or []]
    result["tags"] = pairs.scope_tags(one.get("tags"))
    return result


def row_for(host, source, target, customer, environment):
    name = lam.function_name(host)
    before = {"source_region": source["region"], "target_region": target["region"], "alias": target.get("alias"),
              "production": lam.capture(source), "target_alias_version": target.get("alias_version"),
              "target_reserved_concurrency": target.get("reserved_concurrency"),
              "target_provisioned_concurrency": (target.get("provisioned") or {}).get("requested")}
    violations = [scope_violation(f"Lambda function {name} in {one['region']}", one.get("tags"), customer,
                                  environment) for one in (source, target) if one.get("exists")] if customer else []
    violations = [v for v in violations if v]
    if violations:
        text = "; ".join(v["message"] for v in violations)
        return pairs.row(host, "failed", f"out of scope: {text}", before=before, error=text,
                         remediation="leave the function out of the run (dr_technologies or its dr:enabled tag) or "
                                     "fix the twin's Customer/Environment tags")
    if not target.get("exists"):
        why = target.get("error") or f"no Lambda function {name} in {target['region']}"
        return pairs.row(host, "failed", f"the function that takes over is missing: {why}", before=before, error=why,
                         remediation=f"deploy {name} in {target['region']} (same name, its alias, reserved "
                                     "concurrency 0 for a pilot light) or leave it out of the run")
    if not target.get("alias"):
        why = f"{name} in {target['region']}: {target.get('alias_error')}"
        return pairs.row(host, "failed", f"no alias to move: {why}", before=before, error=why,
                         remediation=f"create the alias clients invoke on {name} in {target['region']}, or tag the "
                                     f"function {lam.TAG_ALIAS}=<alias> when it has several")
    if source.get("exists") and source.get("alias") and source["alias"] != target["alias"]:
        why = f"{name} serves alias {source['alias']} in {source['region']} but {target['alias']} in {target['region']}"
        return pairs.row(host, "failed", why, before=before, error=why,
                         remediation=f"tag both functions {lam.TAG_ALIAS}=<the alias clients invoke>")
    if not source.get("exists"):
        why = source.get("error") or f"no Lambda function {name} in {source['region']}"
        levels = lam.production_levels(host, {}, source)
        return pairs.row(host, "succeeded", f"{name}: serving side not readable ({why}); ACTIVATE uses "
                                            f"{levels['origin']}", before=before)
    provisioned = (source.get("provisioned") or {}).get("requested")
    target_provisioned = (target.get("provisioned") or {}).get("requested")
    summary = (f"{name}: {source['region']} serves {source.get('alias') or target['alias']} -> version "
               f"{source.get('alias_version')} ({lam.levels_text(source.get('reserved_concurrency'), provisioned)}, "
               f"{len(source.get('event_sources') or [])} event sources); {target['region']} holds "
               f"{target['alias']} -> {target.get('alias_version')} "
               f"({lam.levels_text(target.get('reserved_concurrency'), target_provisioned)})")
    return pairs.row(host, "succeeded", summary, before=before)


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
        found = lam.read_sides(factory, p["hosts"], p["direction"], p["primary_region"], p["dr_region"])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    rows = []
    for host in p["hosts"]:
        source_region, target_region = pairs.sides(host, p["direction"], p["primary_region"], p["dr_region"])
        source, target = lam.side(found, host, source_region), lam.side(found, host, target_region)
        result = row_for(host, source, target, p["customer"], p["environment"])
        result.update(source=brief(source), target=brief(target))
        rows.append(result)
    module.exit_json(changed=False, functions=rows)


if __name__ == "__main__":
    main()
