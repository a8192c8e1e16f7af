#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: opensearch_failover_info
short_description: Read OpenSearch replication to the DR domain, and whether the DR domain is readable and current
version_added: 0.2.0
description:
  - Read-only twin of M(enterprise_dr.orchestration.opensearch_failover), for PREFLIGHT and drills.
  - For each protected domain, how it is paired with its DR domain (managed domain replication or cross-cluster
    replication), the roles and status, the follower indexes and their checkpoints, and whether it is C(ready) for
    the operation. O(direction=failover) needs the DR domain to be the C(ACTIVE) secondary (managed), or every follower
    index C(SYNCING) (CCR); O(direction=failback) the same from the DR domain back to the original. A pair this
    operation already switched (a resumed run) is ready. Without O(emergency) the domain that is active now must
    answer too (a planned switchover coordinates with it).
  - With O(check_endpoint) (drills), the DR domain's endpoint must answer (C(GET /_cluster/health)), its indexes must
    be readable (C(GET /_cat/indices)), and its follower indexes current - caught up with their leaders, waited for
    up to O(wait_current_seconds).
  - Every member's C(Customer)/C(Environment) tags are checked against the scope.
options:
  resources:
    description: The OpenSearch domains, each the host's own C(dr_*) variables.
    type: list
    elements: dict
    required: true
  direction:
    description: C(failover) checks primary -> DR, C(failback) DR -> primary.
    type: str
    choices: [failover, failback]
    default: failover
  emergency:
    description: The domain that is active now may not answer; only the DR side is required.
    type: bool
    default: false
  switched:
    description:
      - The run only re-establishes replication (the REPLICATE an emergency failover deferred) - the DR domain must
        already be the active one (C(PRIMARY), or no longer following).
    type: bool
    default: false
  check_endpoint:
    description: Also check that the DR domain answers, is readable and its followers are current (drills).
    type: bool
    default: false
  wait_current_seconds:
    description: How long O(check_endpoint) waits for follower indexes to catch up with their leaders.
    type: int
    default: 30
  indexes:
    description:
      - C(dr_arn) -> the indexes this execution already stopped, for every domain this execution has an entry for
        (from its record). Such a domain whose DR side no longer follows (a resumed run) is ready.
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
- name: Check every protected domain replicates to its DR domain
  enterprise_dr.orchestration.opensearch_failover_info:
    customer: acme
    resources: "{{ adapter_hosts }}"
    accounts: "{{ dr_accounts }}"
  register: opensearch_readiness

- name: Drill - the DR domains answer, are readable and current
  enterprise_dr.orchestration.opensearch_failover_info:
    customer: acme
    resources: "{{ adapter_hosts }}"
    check_endpoint: true
"""

RETURN = r"""
resources:
  description: One row per domain.
  returned: always
  type: list
  elements: dict
  contains:
    resource:
      description: The domain's ARN.
      type: str
    name:
      description: The inventory host.
      type: str
    ready:
      description: Whether replication is as the operation needs it and every member in scope.
      type: bool
    problems:
      description: Why not.
      type: list
      elements: str
    remediation:
      description: The fix.
      type: str
    state:
      description: Both domains and their replication.
      type: dict
    status:
      description: The row as a record entry - C(succeeded) when ready, else C(failed).
      type: str
    after:
      description: The state, with the endpoint check when asked.
      type: dict
    error:
      description: The problems in one line.
      type: str
    summary:
      description: One line for the record.
      type: str
"""


try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import opensearch
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import Poll

PAIR_FIX = ("wait until replication to the DR domain is ACTIVE/SYNCING (or, after a failover, run REPLICATE first: "
            "-e '{\"phases\": [\"replicate\"]}')")


def readiness(state, emergency, resumed):
    """``(problems, remediation, note)`` of the pair for the operation (pure)."""
    problem = opensearch.missing_pair(state)
    if problem:
        return [problem[0]], problem[1], None
    src, dst = state["from"], state["to"]
    if not emergency and state["answered"].get("from") is False:
        return [f"{src['domain_name']} in {src['region']} does not answer ({state['errors'].get(src['region'])})"], \
            "a planned switchover needs both regions: run an emergency failover (-e emergency=true)", None
    if state["mode"] == "managed":
        _from_role, to_role, status = opensearch.roles(state)
        if to_role == "PRIMARY":
            return [], None, f"{dst['domain_name']} is already the primary"
        if to_role == "SECONDARY" and status == "ACTIVE":
            return [], None, None
        if status in ("SWITCHING_OVER", "FAILING_OVER"):
            return [], None, f"a switch to {dst['domain_name']} is under way"
        return [f"replication {src['domain_name']} -> {dst['domain_name']} is {status}"], PAIR_FIX, None
    followers = state["followers"].get("to")
    if followers is None:
        return [f"the endpoint of {dst['domain_name']} does not answer "
                f"({state['errors'].get((state.get('to_domain') or {}).get('endpoint') or 'to')})"], \
            "check the domain's access policy (es:ESHttpGet) and network path", None
    mine = {i: f for i, f in followers.items() if opensearch.connection_alias_leads(state, f.get("leader_alias"))}
    if not mine:
        if resumed:
            return [], None, f"replication of {dst['domain_name']} already stopped by this execution"
        return [f"{dst['domain_name']} has no follower index of {src['domain_name']}"], \
            ("start replication of the indexes on the DR domain (PUT _plugins/_replication/<index>/_start), or "
             "after a failover run REPLICATE first"), None
    bad = [f"{i} is {f['status']}" for i, f in sorted(mine.items()) if f["status"] != "SYNCING"]
    if bad:
        return [f"follower indexes of {dst['domain_name']} not syncing: {', '.join(bad)}"], \
            "resume or restart their replication, then re-run", None
    return [], None, None


def switched_readiness(state):
    """``(problems, remediation, note)`` when the DR domain should already be active (pure)."""
    problem = opensearch.missing_pair(state)
    if problem:
        return [problem[0]], problem[1], None
    src, dst = state["from"], state["to"]
    if state["mode"] == "managed":
        _from_role, to_role, status = opensearch.roles(state)
        if to_role == "PRIMARY":
            return [], None, f"{dst['domain_name']} is the primary ({status})"
    elif state["followers"].get("to") == {} or (
            state["followers"].get("to") is not None
            and not [f for f in state["followers"]["to"].values()
                     if opensearch.connection_alias_leads(state, f.get("leader_alias"))]):
        return [], None, f"{dst['domain_name']} no longer follows {src['domain_name']}"
    return [f"{dst['domain_name']} is not the active domain yet"], \
        ("run the failover's ACTIVATE first (playbooks/failover.yml, with -e emergency=true when the region is "
         "down)"), None


def drill_check(factory, host, state, wait_seconds):
    """The DR domain answers, its indexes are readable and its followers current: ``(problems, remediation, after)``."""
    dst, api = state["to"], state["api"]
    endpoint = (state.get("to_domain") or {}).get("endpoint")
    check = opensearch.endpoint_check(api, dst["region"], endpoint)
    found = {"endpoint": endpoint, "endpoint_answered": check["answered"],
             "cluster_status": check.get("cluster_status")}
    if not check["answered"]:
        return [f"the endpoint of {dst['domain_name']} did not answer ({check.get('error')})"], \
            "check the domain (cluster health, access policy, network path)", found
    try:
        readable = opensearch.indexes(api, dst["region"], endpoint)
    except opensearch.DomainUnreachable as e:
        return [f"the indexes of {dst['domain_name']} are not readable ({e})"], \
            "check the domain's access policy", found
    found["readable_indexes"] = sorted(readable)
    if state["mode"] == "ccr":
        pauses = Poll(wait_seconds, 1)
        while True:
            followers = opensearch.follower_indexes(api, dst["region"], endpoint)
            lag = opensearch.lag_operations(followers)
            if (lag is not None and lag <= 0) or not pauses.pause():
                break
        found["lag_operations"] = lag
        if lag is None or lag > 0:
            return [f"the follower indexes of {dst['domain_name']} are {lag} operation(s) behind their leaders"], \
                "check the cross-cluster replication (follower_stats) and the connection, or re-run the drill", found
    found["recovery_point_time"] = opensearch.utc_now()
    return [], None, found


def main():
    argument_spec = dict(
        resources=dict(type="list", elements="dict", required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        emergency=dict(type="bool", default=False),
        switched=dict(type="bool", default=False),
        check_endpoint=dict(type="bool", default=False),
        wait_current_seconds=dict(type="int", default=30),
        indexes=dict(type="dict", default={}),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    hosts = params["resources"]
    try:
        factory = ClientFactory(module, params["accounts"])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")

    def one(arn):
        host = next(h for h in hosts if h["dr_arn"] == arn)
        state = opensearch.read(factory, host, params["direction"], params["indexes"].get(arn))
        resumed = arn in params["indexes"]
        problems, remediation, note = (switched_readiness(state) if params["switched"]
                                       else readiness(state, params["emergency"], resumed))
        scope = [v["message"] for v in (scope_violation(m, t, params["customer"], params["environment"])
                                        for m, t in opensearch.scope_members(host, state)) if v]
        if scope:
            problems = scope + problems
            remediation = "leave this domain out of the run, or fix the member's Customer/Environment tags"
        described = opensearch.describe(state)
        after = dict(described)
        if params["check_endpoint"] and not problems:
            try:
                found_problems, found_fix, found = drill_check(factory, host, state, params["wait_current_seconds"])
            except opensearch.DomainUnreachable as e:
                found_problems, found_fix, found = [f"{state['to']['domain_name']}: {e}"], \
                    "check the domain's endpoint and access policy", {}
            after.update(found)
            problems, remediation = found_problems, found_fix
        summary = None
        if not problems:
            summary = note or f"{described['replication']} (nothing changed)"
            if params["check_endpoint"]:
                summary = (f"{state['to']['domain_name']} readable ({len(after.get('readable_indexes') or [])} "
                           f"indexes), replication {described['replication']}, current (nothing changed)")
        return {"resource": arn, "name": host.get("inventory_hostname"), "ready": not problems,
                "problems": problems, "remediation": remediation, "state": described,
                "status": "failed" if problems else "succeeded", "after": after,
                "error": "; ".join(problems) or None, "summary": summary}

    try:
        by_arn = run_concurrently(one, [h["dr_arn"] for h in hosts])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read OpenSearch domain replication")
    module.exit_json(changed=False, resources=[by_arn[h["dr_arn"]] for h in hosts])


if __name__ == "__main__":
    main()
