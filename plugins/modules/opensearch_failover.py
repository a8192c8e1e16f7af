#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: opensearch_failover
short_description: Switch the active OpenSearch domain to the DR region, and replicate back
version_added: 0.2.0
description:
  - The ACTIVATE and REPLICATE steps of the OpenSearch adapter, for a whole wave at once. A protected domain is the
    primary region's; its DR domain is in the DR region, paired by managed domain replication or by cross-cluster
    replication (CCR, the DR domain following the primary's indexes).
  - O(state=active) (ACTIVATE) makes the DR domain the active, writable one. Managed replication -
    C(SwitchoverReplication) (planned, no write lost) or, with O(emergency) or the C(failover) recovery strategy,
    C(FailoverReplication) with C(AllowDataLoss), both called in the DR region, then waits until the DR domain is
    C(PRIMARY). CCR - waits until every follower index caught up with its leader (not in an emergency), then stops
    replication of each (C(POST _plugins/_replication/<index>/_stop)) so it becomes a standard, writable index. Then
    the endpoint check - a signed C(GET /_cluster/health) on the DR domain's endpoint.
  - O(state=replicating) (REPLICATE) re-establishes replication in the reverse direction. Managed - nothing after a
    switchover (it reversed the replication); after a failover the ejected old primary is removed as a peer and paired
    again as the secondary (its stale data is discarded, as the service requires). CCR - a connection from the old
    primary to the DR domain (created and accepted), the old primary's stale copy of each index kept as a
    write-blocked clone C(<index>-pre-<execution>), then replication of each index started into the old primary and
    waited until C(SYNCING).
  - O(direction=failback) is the mirror - from the DR domain back to the original one.
  - Idempotent and resume-safe - the live replication state is read first, so a re-run never switches, stops, pairs
    or connects twice.
  - Before any change both domains' own C(Customer)/C(Environment) tags are checked against the scope.
  - Check mode reads and returns each domain's C(plan); C(--diff) shows before and after.
options:
  resources:
    description:
      - The wave's OpenSearch domains, each the host's own C(dr_*) variables (C(dr_arn), C(dr_account_id),
        C(dr_resource_region), C(dr_dr_region), C(dr_opensearch), C(inventory_hostname)).
    type: list
    elements: dict
    required: true
  state:
    description: C(active) - the target domain active and writable; C(replicating) - replication reversed.
    type: str
    choices: [active, replicating]
    required: true
  direction:
    description: C(failover) moves primary -> DR, C(failback) DR -> primary.
    type: str
    choices: [failover, failback]
    default: failover
  emergency:
    description:
      - The other region may not answer - managed replication fails over with C(AllowDataLoss), CCR stops at once.
    type: bool
    default: false
  execution_id:
    description: The run's execution ID; names the kept copies of stale indexes (C(<index>-pre-<execution>)).
    type: str
  indexes:
    description:
      - C(dr_arn) -> the indexes ACTIVATE stopped, from the run's record (CCR), so that REPLICATE replicates exactly
        those back. Without it, every index of the active domain is replicated back.
    type: dict
    default: {}
extends_documentation_fragment:
  - enterprise_dr.orchestration.scope
  - enterprise_dr.orchestration.accounts
  - enterprise_dr.orchestration.wait
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Make the DR domains active
  enterprise_dr.orchestration.opensearch_failover:
    customer: acme
    state: active
    resources: "{{ adapter_hosts }}"
    accounts: "{{ dr_accounts }}"

- name: Replicate back to the original domains
  enterprise_dr.orchestration.opensearch_failover:
    customer: acme
    state: replicating
    execution_id: "{{ adapter_run.execution_id }}"
    resources: "{{ adapter_hosts }}"
"""

RETURN = r"""
resources:
  description: One row per domain.
  returned: always
  type: list
  elements: dict
  contains:
    resource:
      description: The domain's ARN (the host's dr_arn).
      type: str
    name:
      description: The inventory host.
      type: str
    status:
      description: C(succeeded) or C(failed).
      type: str
    changed:
      description: Whether it changed (would change in check mode).
      type: bool
    actions:
      description: The steps taken (or that check mode would take).
      type: list
      elements: str
    plan:
      description: What happens, in words.
      type: str
    summary:
      description: One line for the record.
      type: str
    before:
      description: Both domains and their replication before.
      type: dict
    after:
      description: The same after, with the endpoint check and, for CCR, the indexes stopped or started.
      type: dict
    error:
      description: Why it failed.
      type: str
    remediation:
      description: The fix.
      type: str
diff:
  description: Before and after of every domain that changed.
  returned: when changed
  type: dict
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import opensearch
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import group_by_account_region
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope

WORDS = {
    "switchover_replication": "SwitchoverReplication: promote {dst} in {dst_region} (no write lost)",
    "failover_replication": "FailoverReplication with AllowDataLoss: promote {dst} in {dst_region}",
    "wait_promoted": "wait until {dst} is PRIMARY",
    "wait_caught_up": "wait until the follower indexes of {dst} caught up with {src}",
    "stop": "stop replication of {arg} on {dst} (it becomes writable)",
    "check_endpoint": "check the endpoint of {dst} (GET /_cluster/health)",
    "remove_peer": "remove the ejected peer {src} from {dst}",
    "wait_removed": "wait until the peer is removed",
    "add_peer": "AddReplicationPeer: pair {src} again as the secondary of {dst}",
    "wait_active": "wait until replication {dst} -> {src} is ACTIVE",
    "create_connection": "create the connection {src} -> {dst} (alias {dst})",
    "accept_connection": "accept it on {dst}",
    "wait_connection": "wait until the connection is ACTIVE",
    "block": "write-block the stale {arg} on {src}",
    "clone": "keep it as {target}",
    "delete": "delete the stale {arg} on {src}",
    "start": "start replication of {arg} from {dst} into {src}",
    "wait_syncing": "wait until SYNCING",
}


def plan_words(state, actions, target):
    src, dst = state["from"], state["to"]
    if not opensearch.changes(actions):
        checks = [a for a in actions if a == "check_endpoint"]
        prefix = f"{dst['domain_name']} already {target}"
        return "; ".join([prefix] + [WORDS[a].format(dst=dst["domain_name"]) for a in checks])
    words = []
    for action in actions:
        verb, _sep, arg = action.partition(":")
        arg, _sep, target_index = arg.partition(":")
        words.append(WORDS[verb].format(src=src["domain_name"], dst=dst["domain_name"], dst_region=dst["region"],
                                        arg=arg, target=target_index))
    return "; ".join(words)


def read_all(factory, hosts, direction, indexes):
    groups = group_by_account_region([dict(h, account_id=h.get("dr_account_id"), region=h.get("dr_resource_region"))
                                      for h in hosts])

    def read(key):
        return {h["dr_arn"]: opensearch.read(factory, h, direction, indexes.get(h["dr_arn"])) for h in groups[key]}

    states = {}
    for part in run_concurrently(read, groups).values():
        states.update(part)
    return states


def activate(module, factory, host, state, row, params):
    unplanned = params["emergency"] or (host.get("dr_recovery_strategy") or "").lower() == "failover"
    actions, problem = opensearch.plan_activate(state, unplanned)
    row.update(actions=actions, changed=opensearch.changes(actions) and not problem)
    if problem:
        return problem
    dst = state["to"]
    row["plan"] = plan_words(state, actions, "active")
    after = dict(row["before"], active_domain=dst["domain_name"], active_region=dst["region"],
                 switched_by=("failover" if unplanned else "switchover") if state["mode"] == "managed" else
                 "stop-replication", indexes=[a.split(":", 1)[1] for a in actions if a.startswith("stop:")]
                 or (state["recorded_indexes"] if state["mode"] == "ccr" else []))
    if state["mode"] == "managed":
        after.update(dr_role="PRIMARY")
    else:
        after.update(dr_follower_indexes=[])
    row["after"] = after
    if module.check_mode:
        return None
    done = opensearch.apply_activate(factory, host, state, actions,
                                     params["wait_timeout"] if params["wait"] else 0, params["poll_interval"])
    check = done.get("endpoint") or {}
    after.update(endpoint=check.get("endpoint"), endpoint_answered=check.get("answered"),
                 cluster_status=check.get("cluster_status"))
    if done.get("replication_status"):
        after["replication_status"] = done["replication_status"]
    if done.get("lag_operations") is not None:
        after["lag_operations"] = done["lag_operations"]
    # No write lost: a switchover, or followers that caught up before the stop. Else the RPO is not measured here.
    if opensearch.changes(actions) and (not unplanned or after.get("lag_operations") == 0):
        after["recovery_point_time"] = opensearch.utc_now()
    row["summary"] = (f"{dst['domain_name']} active in {dst['region']} ({after['switched_by']}), endpoint "
                      f"{'answered' if check.get('answered') else 'did not answer'}")
    if not check.get("answered"):
        return (f"the endpoint of {dst['domain_name']} did not answer after the switch ({check.get('error')})",
                "check the domain (cluster health, access policy) and re-run: the switch is not repeated")
    return None


def replicate(module, factory, host, state, row, params):
    actions, problem = opensearch.plan_replicate(state, params["execution_id"])
    row.update(actions=actions, changed=opensearch.changes(actions) and not problem)
    if problem:
        return problem
    src, dst = state["from"], state["to"]
    row["plan"] = plan_words(state, actions, "replicating back")
    # The indexes ACTIVATE stopped stay in the entry: a REPLICATE resumed after a kill replicates exactly those.
    after = dict(row["before"], active_domain=dst["domain_name"], active_region=dst["region"],
                 indexes=list(state["recorded_indexes"]) or sorted(
                     {a.split(":", 1)[1] for a in actions if a.startswith("start:")}
                     | set((state["followers"].get("from") or {}))))
    if state["mode"] == "managed":
        after.update(replication=f"{dst['domain_name']} -> {src['domain_name']} ACTIVE", replication_status="ACTIVE")
    else:
        after.update(replication=f"{dst['domain_name']} -> {src['domain_name']}",
                     original_follower_indexes=sorted(set(row["before"]["original_follower_indexes"]) | {
                         a.split(":", 1)[1] for a in actions if a.startswith("start:")}),
                     kept_indexes=[a.split(":")[2] for a in actions if a.startswith("clone:")])
    row["after"] = after
    row["summary"] = f"replicating {dst['domain_name']} -> {src['domain_name']} ({src['region']})"
    if module.check_mode or not actions:
        return None
    done = opensearch.apply_replicate(factory, host, state, actions,
                                      params["wait_timeout"] if params["wait"] else 0, params["poll_interval"])
    if done.get("replication_status"):
        after["replication_status"] = done["replication_status"]
    if done.get("connection"):
        after["connection_id"] = done["connection"]
    return None


def main():
    argument_spec = dict(
        resources=dict(type="list", elements="dict", required=True),
        state=dict(type="str", choices=["active", "replicating"], required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        emergency=dict(type="bool", default=False),
        execution_id=dict(type="str"),
        indexes=dict(type="dict", default={}),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    hosts, wanted = params["resources"], params["state"]
    rows = []
    try:
        factory = ClientFactory(module, params["accounts"])
        states = read_all(factory, hosts, params["direction"], params["indexes"])
        check_scope([m for h in hosts for m in opensearch.scope_members(h, states[h["dr_arn"]])], params["customer"],
                    params["environment"])
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read OpenSearch domain replication; nothing was changed")

    def one(host):
        state = states[host["dr_arn"]]
        before = opensearch.describe(state)
        row = {"resource": host["dr_arn"], "name": host.get("inventory_hostname"), "before": before,
               "after": before, "actions": [], "changed": False}
        try:
            problem = (activate if wanted == "active" else replicate)(module, factory, host, state, row, params)
        except opensearch.StepFailed as e:
            problem = (str(e), e.remediation)
        except opensearch.DomainUnreachable as e:
            problem = (f"{state['to']['domain_name']}: {e}", "check the domain's endpoint and access, then re-run")
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            problem = (f"{state['to']['domain_name']}: {opensearch.error_text(e)}",
                       "fix the cause named by the error and re-run: steps already done are not repeated")
        if problem:
            row.update(status="failed", error=problem[0], remediation=problem[1])
            row.setdefault("plan", problem[0])
        else:
            row["status"] = "succeeded"
        return row

    by_arn = run_concurrently(lambda arn: one(next(h for h in hosts if h["dr_arn"] == arn)),
                              [h["dr_arn"] for h in hosts])
    rows = [by_arn[h["dr_arn"]] for h in hosts]
    changed = any(r["changed"] for r in rows)
    result = dict(changed=changed, resources=rows)
    if changed:
        result["diff"] = {"before": {r["name"]: r["before"] for r in rows if r["changed"]},
                          "after": {r["name"]: r["after"] for r in rows if r["changed"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
