#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: autoscaling_capacity
short_description: Scale Auto Scaling group pairs for a failover, failback or drill, all of a wave at once
version_added: 0.2.0
description:
  - One run handles every Auto Scaling group of a wave, one client per account and region. The inventory host is
    the DR region's group; its twin in the primary region has the same name.
  - O(action=activate) sets the group that takes over (the DR region's in a failover, the primary region's in a
    failback) to the capacity captured before the run (O(recorded), the execution record's C(before.capacity)),
    else the serving group's live capacity, else the C(dr:desired-count) tag; then waits until that many
    instances are InService and Healthy.
  - O(action=scale_down) sets the old group to min 0 and desired 0 (max kept; the group is never deleted). It refuses
    while the group that took over does not serve its desired capacity, and skips (with the fix) a region that
    does not answer.
  - O(action=drill) scales the DR group to O(drill_capacity) and waits until those instances are InService;
    O(action=restore) returns it to the capacity it had before the drill (O(recorded) C(before.target_capacity)).
    A drill never touches the serving group.
  - Before any change, the C(Customer) and C(Environment) tags of every group touched, on both sides, are checked;
    one group out of scope refuses the whole run and nothing changes.
  - Idempotent and resume-safe - a group that already has the wanted capacity gets no call, only the wait.
  - Check mode makes no change and returns RV(groups[].plan) per group; C(--diff) shows capacity before and after.
options:
  hosts:
    description:
      - The wave's Auto Scaling resources, each the host's C(dr_*) variables
        (see M(enterprise_dr.orchestration.autoscaling_capacity_info)).
    type: list
    elements: dict
    required: true
  action:
    description: What to do with each group pair.
    type: str
    choices: [activate, scale_down, drill, restore]
    required: true
  direction:
    description: C(failover) moves serving to the DR region, C(failback) back to the primary region.
    type: str
    choices: [failover, failback]
    default: failover
  recorded:
    description:
      - The execution record's resource entries (C(execution.resources) of
        M(enterprise_dr.orchestration.execution_record_info)).
    type: list
    elements: dict
    default: []
  drill_capacity:
    description: Instances a drill starts in each DR group.
    type: int
    default: 1
  primary_region:
    description: The run's primary region (default each host's account's).
    type: str
  dr_region:
    description: The run's DR region (default each host's account's).
    type: str
extends_documentation_fragment:
  - enterprise_dr.orchestration.scope
  - enterprise_dr.orchestration.wait
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Scale the DR groups to the production capacity captured in PREFLIGHT
  enterprise_dr.orchestration.autoscaling_capacity:
    hosts: "{{ adapter_hosts }}"
    action: activate
    recorded: "{{ record.execution.resources }}"
    customer: acme
    environment: production
    wait_timeout: 900
"""

RETURN = r"""
groups:
  description: One row per group pair, in the one record-entry shape (C(resource) is the host's ARN).
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The host's ARN., type: str}
    name: {description: The inventory host., type: str}
    status: {description: "C(succeeded), C(failed) or C(skipped).", type: str}
    summary: {description: One line for people., type: str}
    changed: {description: Whether the group was (or would be) updated., type: bool}
    before: {description: The group's capacity before., type: dict}
    after: {description: "Capacity, region and InService count after (predicted in check mode).", type: dict}
    plan: {description: What would happen (check mode)., type: str}
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
diff:
  description: Before and after of the groups that changed.
  returned: when changed
  type: dict
"""

import functools

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import autoscaling as asg
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs as pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import Poll

TAG_DESIRED = "dr:desired-count"


def wanted_capacity(host, action, source, target, recorded, drill_capacity):
    """``(wanted, origin)`` for the group that changes, or ``(None, why)``."""
    before = pairs.recorded_before(recorded, host.get("dr_arn"))
    if action == "activate":
        if before.get("capacity") and int(before["capacity"].get("desired_capacity") or 0) > 0:
            return dict(before["capacity"]), "recorded in PREFLIGHT"
        if source.get("exists") and int(source["capacity"]["desired_capacity"] or 0) > 0:
            return dict(source["capacity"]), f"live from {source['region']}"
        tag = (host.get("dr_tags") or {}).get(TAG_DESIRED)
        if tag and str(tag).strip().isdigit():
            count = int(tag)
            current_max = int((target.get("capacity") or {}).get("max_size") or 0)
            return {"min_size": count, "max_size": max(count, current_max), "desired_capacity": count}, TAG_DESIRED
        return None, (f"no capacity to restore: nothing recorded in PREFLIGHT, {source['region']} "
                      f"{'does not answer' if not source.get('reachable') else 'holds none'}, no {TAG_DESIRED} tag")
    if action == "drill":
        return asg.wanted_for_drill(target["capacity"], drill_capacity), "drill capacity"
    if action == "restore":
        if before.get("target_capacity"):
            return dict(before["target_capacity"]), "recorded before the drill"
        return asg.scaled_down(target["capacity"]), "no record: back to zero"
    return asg.scaled_down(source["capacity"]), "old side to zero"


def before_of(one):
    # PREFLIGHT wrote before.capacity (the serving side); a phase adds the side it changes under its region.
    return {f"capacity_{one['region']}": one["capacity"]}


def main():
    argument_spec = dict(
        hosts=dict(type="list", elements="dict", required=True),
        action=dict(type="str", choices=["activate", "scale_down", "drill", "restore"], required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        recorded=dict(type="list", elements="dict", default=[]),
        drill_capacity=dict(type="int", default=1),
        primary_region=dict(type="str"),
        dr_region=dict(type="str"),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    action = p["action"]
    try:
        factory = ClientFactory(module, p["accounts"])
        found = asg.read_sides(factory, p["hosts"], p["direction"], p["primary_region"], p["dr_region"])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")

    rows, work = [], []
    in_scope_check = []
    for host in p["hosts"]:
        source_region, target_region = pairs.sides(host, p["direction"], p["primary_region"], p["dr_region"])
        source, target = asg.side(found, host, source_region), asg.side(found, host, target_region)
        changing = source if action == "scale_down" else target
        name = host["dr_resource_name"]
        for one in (source, target):
            if one.get("exists"):
                in_scope_check.append((f"Auto Scaling group {name} in {one['region']} ({pairs.label(host)})",
                                       one["tags"]))
        if action == "scale_down" and not source.get("reachable"):
            rows.append(pairs.row(host, "skipped", f"{source_region} does not answer: {name} not scaled down yet",
                                  error=source.get("error"), remediation=(
                                      f"re-run CLEANUP when {source_region} answers: the old group {name} still "
                                      "has its capacity")))
            continue
        if not changing.get("exists"):
            why = changing.get("error") or f"no Auto Scaling group {name} in {changing['region']}"
            rows.append(pairs.row(host, "failed", why, error=why, remediation=(
                f"create {name} in {changing['region']} (same name as its twin) or leave it out of the run")))
            continue
        serving_now = int((target.get("capacity") or {}).get("desired_capacity") or 0)
        # A dry run predicts CLEANUP as if ACTIVATE had run before it (nothing has been scaled yet).
        if action == "scale_down" and not module.check_mode and (
                not serving_now or not asg.serving(target, serving_now)):
            why = (f"{name} in {target_region} does not serve ({target.get('in_service', 0)} InService of "
                   f"{(target.get('capacity') or {}).get('desired_capacity', 0)} desired)")
            rows.append(pairs.row(host, "failed", f"refusing to scale down {source_region}: {why}", error=why,
                                  remediation=f"finish ACTIVATE (the group in {target_region} serving) first"))
            continue
        wanted, origin = wanted_capacity(host, action, source, target, p["recorded"], p["drill_capacity"])
        if wanted is None:
            rows.append(pairs.row(host, "failed", origin, error=origin, remediation=(
                f"tag the group with {TAG_DESIRED}=<instances> or run PREFLIGHT while {source_region} answers")))
            continue
        invalid = asg.validate_capacity(wanted)
        if invalid:
            rows.append(pairs.row(host, "failed", invalid, error=invalid,
                                  remediation="fix the captured capacity or the dr:desired-count tag"))
            continue
        work.append({"host": host, "side": changing, "wanted": wanted, "origin": origin,
                     "change": asg.needs_change(changing["capacity"], wanted)})
    try:
        check_scope(in_scope_check, p["customer"], p["environment"])
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)

    verb = {"activate": "take over", "scale_down": "scale down", "drill": "drill", "restore": "return after the drill"}
    if module.check_mode:
        for item in work:
            host, one, wanted = item["host"], item["side"], item["wanted"]
            plan = (f"{'would set' if item['change'] else 'already at'} {host['dr_resource_name']} in "
                    f"{one['region']} min/max/desired {asg.capacity_text(one['capacity'])} -> "
                    f"{asg.capacity_text(wanted)} ({item['origin']})"
                    + (f", then wait for {wanted['desired_capacity']} InService" if action != "scale_down" else ""))
            after = ({"old_region": one["region"], "old_capacity": wanted} if action == "scale_down"
                     else {"capacity": wanted, "region": one["region"]})
            rows.append(pairs.row(host, "succeeded", plan, before=before_of(one), after=after, plan=plan,
                                  changed=item["change"]))
        module.exit_json(changed=any(r["changed"] for r in rows), groups=rows, diff=pairs.diff_of(rows))

    def apply(item):
        one = item["side"]
        if item["change"]:
            client = factory.client("autoscaling", account_id=item["host"].get("dr_account_id"), region=one["region"])
            asg.update_capacity(client, one["name"], item["wanted"])

    failed = {}
    for item in work:
        try:
            apply(item)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            failed[id(item)] = pairs.error_text(e)

    waiting = [i for i in work if id(i) not in failed and action != "scale_down" and p["wait"]]
    states = {}
    pauses = Poll(p["wait_timeout"], p["poll_interval"])

    def poll(by_key, key):
        client = factory.client("autoscaling", account_id=key[0], region=key[1])
        return asg.read_groups(client, [i["side"]["name"] for i in by_key[key]], key[0], key[1])

    while waiting:
        by_key = {}
        for item in waiting:
            by_key.setdefault((item["host"].get("dr_account_id"), item["side"]["region"]), []).append(item)
        try:
            polled = run_concurrently(functools.partial(poll, by_key), list(by_key))
        except asg.GroupReadError:
            polled = {}
        still = []
        for key, items in by_key.items():
            for item in items:
                state = (polled.get(key) or {}).get(item["side"]["name"])
                states[id(item)] = state
                if not asg.serving(state, item["wanted"]["desired_capacity"]):
                    still.append(item)
        waiting = still
        if not waiting or not pauses.pause():
            break

    timed_out = {id(i) for i in waiting}
    for item in work:
        host, one, wanted = item["host"], item["side"], item["wanted"]
        state = states.get(id(item))
        # CLEANUP keeps ACTIVATE's after (the serving side) and adds the old side's.
        after = ({"old_region": one["region"], "old_capacity": wanted} if action == "scale_down"
                 else {"capacity": wanted, "region": one["region"]})
        if state is not None:
            after["in_service"] = state["in_service"]
        before = before_of(one)
        name = one["name"]
        if id(item) in failed:
            rows.append(pairs.row(host, "failed", f"{name} in {one['region']}: update failed", before=before,
                                  error=failed[id(item)], remediation="fix the error above and re-run the phase"))
        elif id(item) in timed_out:
            got = state["in_service"] if state else 0
            rows.append(pairs.row(host, "failed", f"{name} in {one['region']}: {got} of "
                                  f"{wanted['desired_capacity']} instances InService and healthy after "
                                  f"{p['wait_timeout']} s", before=before, after=after, changed=item["change"],
                                  error=f"{got}/{wanted['desired_capacity']} instances InService",
                                  remediation="check the group's scaling activities and launch template, then "
                                              "re-run the phase (it does not scale twice)"))
        else:
            summary = (f"{name} {verb[action]} in {one['region']}: min/max/desired "
                       f"{asg.capacity_text(one['capacity'])} -> {asg.capacity_text(wanted)} ({item['origin']})"
                       + (f", {state['in_service']} InService" if state else "")
                       + ("" if item["change"] else " (already at that capacity)"))
            rows.append(pairs.row(host, "succeeded", summary, before=before, after=after, changed=item["change"]))
    module.exit_json(changed=any(r["changed"] for r in rows), groups=rows, diff=pairs.diff_of(rows))


if __name__ == "__main__":
    main()
