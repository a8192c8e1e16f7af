#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: efs_replication_info
short_description: Read EFS replication between a protected file system and its DR copy, and whether it is current
version_added: 0.2.0
description:
  - Read-only twin of M(enterprise_dr.orchestration.efs_replication), for PREFLIGHT and drills.
  - For each protected file system, its replication configuration (status, last sync), both file systems' protection,
    and whether it is C(ready) for the operation - O(direction=failover) needs replication primary -> DR C(ENABLED)
    (or C(PAUSED)) with the last sync at most O(lag_threshold_seconds) ago; O(direction=failback) the same from the
    DR file system back to the original - and every member in scope.
  - C(recovery_point_time) is the last sync - everything written before it is on the DR side (the RPO).
options:
  resources:
    description: The EFS file systems, each the host's own C(dr_*) variables.
    type: list
    elements: dict
    required: true
  direction:
    description: C(failover) checks primary -> DR, C(failback) DR -> primary.
    type: str
    choices: [failover, failback]
    default: failover
  lag_threshold_seconds:
    description: The most seconds since the last sync for the replication to count as current.
    type: int
    default: 900
  peers:
    description:
      - C(dr_arn) -> the DR file system ID, from the run's record. A file system of this execution whose replication
        was already deleted (a resumed run) counts as ready when its DR side is writable.
    type: dict
    default: {}
extends_documentation_fragment:
  - enterprise_dr.orchestration.scope
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Check replication of every protected file system is current
  enterprise_dr.orchestration.efs_replication_info:
    customer: acme
    resources: "{{ adapter_hosts }}"
    lag_threshold_seconds: 300
    accounts: "{{ dr_accounts }}"
  register: efs_readiness
"""

RETURN = r"""
resources:
  description: One row per file system.
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The file system's ARN., type: str}
    name: {description: The inventory host., type: str}
    ready: {description: Whether replication is current and every member in scope., type: bool}
    problems: {description: Why not., type: list, elements: str}
    remediation: {description: The fix., type: str}
    state: {description: Both file systems and their replication., type: dict}
    replication_lag_seconds: {description: Seconds since the last sync., type: int}
    status: {description: "The row as a record entry - C(succeeded) when ready, else C(failed).", type: str}
    after: {description: "The state, with C(recovery_point_time) (the last sync).", type: dict}
    error: {description: The problems in one line., type: str}
    summary: {description: One line for the record., type: str}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import efs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import group_by_account_region
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation


def readiness(state, lag_threshold):
    """``(problems, remediation, lag)`` for replication from -> to (pure). A pair this operation already failed over
    (no replication and the target writable, or replication already reversed) is ready: a resumed run goes on."""
    replication, src, dst = state.get("replication"), state["from"], state["to"]
    if efs.flows(replication, dst, src) or (
            replication is None and (state.get("to_fs") or {}).get("protection") in ("ENABLED", "DISABLED")
            and dst["file_system_id"] and state.get("resumed")):
        return [], None, None
    if not efs.flows(replication, src, dst):
        if replication:
            what = (f"replication flows {replication['source_file_system_id']} -> "
                    f"{replication['destination_file_system_id']}, not {src['file_system_id']} -> "
                    f"{dst['file_system_id'] or 'the other region'}")
        else:
            what = f"{src['file_system_id']} has no replication configuration"
        return [what], ("create the replication configuration to the other region and wait until it is ENABLED "
                        "(or, after a failover, run REPLICATE first)"), None
    lag = efs.lag_seconds(replication)
    if replication["status"] == "DELETING":
        return [], None, lag  # a failover already under way (a resumed run): ACTIVATE waits for it, never repeats it
    if replication["status"] not in ("ENABLED", "PAUSED"):
        return [f"replication {src['file_system_id']} -> {dst['file_system_id']} is {replication['status']}"], \
            "wait until the replication is ENABLED (the initial sync is not finished), then re-run", lag
    if lag is None or lag > lag_threshold:
        return [f"the last sync of {dst['file_system_id']} was {lag} s ago (threshold {lag_threshold} s)"], \
            ("check the replication (CloudWatch TimeSinceLastSync) or raise -e lag_threshold_seconds"), lag
    return [], None, lag


def main():
    argument_spec = dict(
        resources=dict(type="list", elements="dict", required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        lag_threshold_seconds=dict(type="int", default=900),
        peers=dict(type="dict", default={}),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    hosts = params["resources"]
    try:
        factory = ClientFactory(module, params["accounts"])
        groups = group_by_account_region([dict(h, account_id=h.get("dr_account_id"),
                                               region=h.get("dr_resource_region")) for h in hosts])
        states = {}
        for part in run_concurrently(lambda key: {h["dr_arn"]: efs.read(factory, h, params["direction"],
                                                                        params["peers"].get(h["dr_arn"]))
                                                  for h in groups[key]}, groups).values():
            states.update(part)
        for arn in states:
            # A peer known only from the run's record: this execution already deleted the replication.
            states[arn]["resumed"] = arn in params["peers"]
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read EFS replication")
    rows = []
    for host in hosts:
        state = states[host["dr_arn"]]
        problems, remediation, lag = readiness(state, params["lag_threshold_seconds"])
        scope = [v["message"] for v in (scope_violation(m, t, params["customer"], params["environment"])
                                        for m, t in efs.scope_members(host, state)) if v]
        if scope:
            problems = scope + problems
            remediation = "leave this file system out of the run, or fix the member's Customer/Environment tags"
        described = efs.describe(state)
        after = dict(described, recovery_point_time=described["last_replicated"])
        rows.append({"resource": host["dr_arn"], "name": host.get("inventory_hostname"), "ready": not problems,
                     "problems": problems, "remediation": remediation, "state": described,
                     "replication_lag_seconds": lag, "status": "failed" if problems else "succeeded",
                     "after": after, "error": "; ".join(problems) or None,
                     "summary": None if problems else f"{described['replication']}, last sync "
                                                      f"{described['last_replicated'] or 'none'} (nothing changed)"})
    module.exit_json(changed=False, resources=rows)


if __name__ == "__main__":
    main()
