#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_service_capacity
short_description: Prepare and scale ECS service pairs for a failover, failback or drill, all of a wave at once
version_added: 0.2.0
description:
  - One run handles every ECS service of a wave, one client per account and region. The inventory host is the DR
    region's service; its twin in the primary region has the same cluster and service names.
  - O(action=prepare) (INSTANTIATE) makes sure the service that takes over runs the serving service's task definition;
    when its own differs (family, containers, size), the serving one is registered in its region and the service is
    pointed at it, with its desired count left as it is (zero in a pilot light).
  - O(action=activate) scales the service that takes over to the desired count captured before the run (O(recorded)
    C(before.desired_count)), else the serving service's live count, else the C(dr:desired-count) tag; waits until
    running = desired, nothing pending, one deployment and that deployment C(COMPLETED); then checks the service's
    C(dr:health-check-url).
  - O(action=scale_down) sets the old service to zero once the new one serves; a region that does not answer is
    skipped with the fix. The service is never deleted.
  - O(action=drill) scales the DR service to O(drill_count) and waits for it; O(action=restore) returns it to the
    count it had before the drill. A drill never touches the serving service.
  - Before any change, the C(Customer) and C(Environment) tags of every service touched, on both sides, are checked;
    one service out of scope refuses the whole run and nothing changes.
  - Idempotent and resume-safe - a service that already has the wanted count (and task definition) gets no call.
  - Check mode makes no change and returns RV(services[].plan); C(--diff) shows before and after.
options:
  hosts:
    description: The wave's ECS services, each the host's C(dr_*) variables (C(dr_arn), C(inventory_hostname),
      C(dr_account_id), C(dr_resource_id), C(dr_primary_region), C(dr_dr_region), C(dr_tags), C(dr_health_check_url)).
    type: list
    elements: dict
    required: true
  action:
    description: What to do with each service pair.
    type: str
    choices: [prepare, activate, scale_down, drill, restore]
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
  drill_count:
    description: Tasks a drill runs in each DR service.
    type: int
    default: 1
  health_check_timeout:
    description: Seconds the C(dr:health-check-url) of a service may take to answer 200 or 204 after ACTIVATE.
    type: int
    default: 300
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
- name: Scale the DR services to the production desired count captured in PREFLIGHT
  enterprise_dr.orchestration.ecs_service_capacity:
    hosts: "{{ adapter_hosts }}"
    action: activate
    recorded: "{{ record.execution.resources }}"
    customer: acme
    environment: production
"""

RETURN = r"""
services:
  description: One row per service pair, in the one record-entry shape (C(resource) is the host's ARN).
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The host's ARN., type: str}
    name: {description: The inventory host., type: str}
    status: {description: "C(succeeded), C(failed) or C(skipped).", type: str}
    summary: {description: One line for people., type: str}
    changed: {description: Whether the service was (or would be) updated., type: bool}
    before: {description: The service's state before., type: dict}
    after: {description: "Region, desired and running counts, task definition, health check after.", type: dict}
    plan: {description: What would happen (check mode)., type: str}
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
diff:
  description: Before and after of the services that changed.
  returned: when changed
  type: dict
"""

import functools

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import ecs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import endpoint_checks
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs as pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import Poll

TAG_DESIRED = "dr:desired-count"
VERB = {"prepare": "prepared", "activate": "took over", "scale_down": "scaled down", "drill": "drilled",
        "restore": "returned after the drill"}


def wanted_count(host, action, source, target, recorded, drill_count):
    """``(desired, origin)`` for the service that changes, or ``(None, why)``."""
    before = pairs.recorded_before(recorded, host.get("dr_arn"))
    if action == "activate":
        if int(before.get("desired_count") or 0) > 0:
            return int(before["desired_count"]), "recorded in PREFLIGHT"
        if source.get("exists") and int(source["desired_count"] or 0) > 0:
            return int(source["desired_count"]), f"live from {source['region']}"
        tag = str((host.get("dr_tags") or {}).get(TAG_DESIRED) or "").strip()
        if tag.isdigit():
            return int(tag), TAG_DESIRED
        return None, (f"no desired count to restore: nothing recorded in PREFLIGHT, {source['region']} "
                      f"{'does not answer' if not source.get('reachable') else 'runs none'}, no {TAG_DESIRED} tag")
    if action == "drill":
        return int(drill_count), "drill count"
    if action == "restore":
        return int(before.get("target_desired_count") or 0), "count before the drill"
    if action == "prepare":
        return int(target["desired_count"]), "kept"
    return 0, "old side to zero"


def before_of(one):
    # PREFLIGHT wrote before.desired_count (the serving side); a phase adds the side it changes under its region.
    return {f"desired_count_{one['region']}": one["desired_count"],
            f"task_definition_{one['region']}": one.get("task_definition")}


def after_of(action, one, desired, state=None, task_definition=None):
    if action == "scale_down":  # CLEANUP keeps ACTIVATE's after (the serving side) and adds the old side's
        return {"old_region": one["region"], "old_desired_count": desired,
                "old_running_count": state["running_count"] if state else None}
    after = {"region": one["region"], "desired_count": desired,
             "running_count": state["running_count"] if state else None,
             "task_definition": task_definition or one.get("task_definition")}
    if action == "prepare":
        return {"task_definition": task_definition or one.get("task_definition"), "prepared_region": one["region"]}
    return after


def main():
    argument_spec = dict(
        hosts=dict(type="list", elements="dict", required=True),
        action=dict(type="str", choices=["prepare", "activate", "scale_down", "drill", "restore"], required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        recorded=dict(type="list", elements="dict", default=[]),
        drill_count=dict(type="int", default=1),
        health_check_timeout=dict(type="int", default=300),
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
        found = ecs.read_sides(factory, p["hosts"], p["direction"], p["primary_region"], p["dr_region"])
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")

    rows, work, in_scope_check = [], [], []
    for host in p["hosts"]:
        source_region, target_region = pairs.sides(host, p["direction"], p["primary_region"], p["dr_region"])
        source, target = ecs.side(found, host, source_region), ecs.side(found, host, target_region)
        changing = source if action == "scale_down" else target
        name = host["dr_resource_id"]
        for one in (source, target):
            if one.get("exists"):
                in_scope_check.append((f"ECS service {name} in {one['region']} ({pairs.label(host)})", one["tags"]))
        if action == "scale_down" and not source.get("reachable"):
            rows.append(pairs.row(host, "skipped", f"{source_region} does not answer: {name} not scaled down yet",
                                  error=source.get("error"), remediation=(
                                      f"re-run CLEANUP when {source_region} answers: the old service {name} still "
                                      "runs its tasks")))
            continue
        if not changing.get("exists"):
            why = changing.get("error") or f"no ECS service {name} in {changing['region']}"
            rows.append(pairs.row(host, "failed", why, error=why, remediation=(
                f"create {name} in {changing['region']} (same cluster and service names as its twin) or leave it out "
                "of the run")))
            continue
        if action == "scale_down" and not module.check_mode and (
                not target.get("desired_count") or not ecs.serving(target, target["desired_count"])):
            why = (f"{name} in {target_region} does not serve ({target.get('running_count', 0)} running of "
                   f"{target.get('desired_count', 0)} desired, deployment {target.get('rollout_state')})")
            rows.append(pairs.row(host, "failed", f"refusing to scale down {source_region}: {why}", error=why,
                                  remediation=f"finish ACTIVATE (the service in {target_region} serving) first"))
            continue
        if action == "prepare" and not source.get("exists"):
            rows.append(pairs.row(host, "skipped", f"{source_region} does not answer: {name} keeps its task "
                                  f"definition {target.get('task_definition')}", error=source.get("error"),
                                  remediation="nothing to do now; check the task definition when the region answers"))
            continue
        desired, origin = wanted_count(host, action, source, target, p["recorded"], p["drill_count"])
        if desired is None:
            rows.append(pairs.row(host, "failed", origin, error=origin, remediation=(
                f"tag the service with {TAG_DESIRED}=<tasks> or run PREFLIGHT while {source_region} answers")))
            continue
        work.append({"host": host, "side": changing, "source": source, "desired": desired, "origin": origin,
                     "change": int(changing["desired_count"]) != desired, "register": None})
    try:
        check_scope(in_scope_check, p["customer"], p["environment"])
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)

    # INSTANTIATE: compare task definitions (reads only) before deciding what changes.
    failed = {}
    if action == "prepare":
        def compare(item):
            host, source, one = item["host"], item["source"], item["side"]
            account = host.get("dr_account_id")
            wanted = ecs.describe_task_definition(factory.client("ecs", account_id=account, region=source["region"]),
                                                  source["task_definition"])
            current = ecs.describe_task_definition(factory.client("ecs", account_id=account, region=one["region"]),
                                                   one["task_definition"])
            return wanted, current

        for item, answer in zip(work, map_concurrently(lambda i: _guard(compare, i), work)):
            if isinstance(answer, Exception):
                failed[id(item)] = pairs.error_text(answer)
                continue
            wanted, current = answer
            if not ecs.same_definition(wanted, current):
                item["register"] = wanted
                item["change"] = True

    if module.check_mode:
        for item in work:
            host, one, desired = item["host"], item["side"], item["desired"]
            if id(item) in failed:
                rows.append(pairs.row(host, "failed", failed[id(item)], error=failed[id(item)],
                                      remediation="check the task definitions of both services"))
                continue
            if action == "prepare":
                plan = (f"would register {item['register']['family']} (the serving task definition) in {one['region']} "
                        f"and point {one['arn']} at it, desired count kept at {one['desired_count']}"
                        if item["register"] else f"{host['dr_resource_id']} in {one['region']} already runs the "
                                                 "serving task definition")
            else:
                plan = (f"{'would set' if item['change'] else 'already at'} {host['dr_resource_id']} in "
                        f"{one['region']} desired count {one['desired_count']} -> {desired} ({item['origin']})"
                        + ("" if action == "scale_down" else ", then wait for running = desired and the deployment "
                                                             "COMPLETED")
                        + (", then check " + endpoint_checks.shown(host["dr_health_check_url"])
                           if action == "activate" and host.get("dr_health_check_url") else ""))
            rows.append(pairs.row(host, "succeeded", plan, before=before_of(one),
                                  after=after_of(action, one, desired), plan=plan, changed=item["change"]))
        module.exit_json(changed=any(r["changed"] for r in rows), services=rows, diff=pairs.diff_of(rows))

    registered = {}
    for item in work:
        if id(item) in failed or not item["change"]:
            continue
        one = item["side"]
        client = factory.client("ecs", account_id=item["host"].get("dr_account_id"), region=one["region"])
        try:
            task_definition = None
            if item["register"]:
                task_definition = ecs.register_copy(client, item["register"])["taskDefinitionArn"]
                registered[id(item)] = task_definition
            ecs.update_desired(client, item["host"]["dr_resource_id"], item["desired"], task_definition)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            failed[id(item)] = pairs.error_text(e)

    states = wait_for(factory, [i for i in work if id(i) not in failed and action not in ("prepare",)], p)
    health = {}
    if action == "activate":
        checks = [i for i in work if id(i) not in failed and i["host"].get("dr_health_check_url")
                  and ecs.serving(states.get(id(i)), i["desired"])]
        for item, result in zip(checks, map_concurrently(
                lambda i: endpoint_checks.check(i["host"]["dr_health_check_url"], p["health_check_timeout"]), checks)):
            health[id(item)] = result

    for item in work:
        host, one, desired = item["host"], item["side"], item["desired"]
        state = states.get(id(item))
        name = host["dr_resource_id"]
        after = after_of(action, one, desired, state, registered.get(id(item)))
        if id(item) in failed:
            rows.append(pairs.row(host, "failed", f"{name} in {one['region']}: update failed", before=before_of(one),
                                  error=failed[id(item)], remediation="fix the error above and re-run the phase"))
            continue
        if action != "prepare" and p["wait"] and not ecs.serving(state, desired):
            seen = (f"{state['running_count']} running, {state['pending_count']} pending of {desired}, deployment "
                    f"{state.get('rollout_state')}") if state else "not readable"
            rows.append(pairs.row(host, "failed", f"{name} in {one['region']}: {seen} after {p['wait_timeout']} s",
                                  before=before_of(one), after=after, changed=item["change"], error=seen,
                                  remediation="check the service's events (placement, image pull, capacity), then "
                                              "re-run the phase (it does not scale twice)"))
            continue
        if id(item) in health:
            passed, detail = health[id(item)]
            after["health_check"] = detail
            if not passed:
                rows.append(pairs.row(host, "failed", f"{name} in {one['region']} runs {desired} tasks but its "
                                      f"endpoint fails: {detail}", before=before_of(one), after=after,
                                      changed=item["change"], error=detail, remediation=(
                                          "check the application, its load balancer target group and security "
                                          "groups, then re-run ACTIVATE")))
                continue
        if action == "prepare":
            summary = (f"{name} in {one['region']} now runs {registered[id(item)]} (registered from the serving "
                       f"service), desired count kept at {desired}" if id(item) in registered
                       else f"{name} in {one['region']} already runs the serving task definition")
        else:
            summary = (f"{name} {VERB[action]} in {one['region']}: desired count {one['desired_count']} -> {desired} "
                       f"({item['origin']})" + (f", {state['running_count']} running" if state else "")
                       + ("" if item["change"] else " (already at that count)")
                       + (f", {after['health_check']}" if after.get("health_check") else ""))
        rows.append(pairs.row(host, "succeeded", summary, before=before_of(one), after=after, changed=item["change"]))
    module.exit_json(changed=any(r["changed"] for r in rows), services=rows, diff=pairs.diff_of(rows))


def _guard(func, item):
    try:
        return func(item)
    except Exception as e:  # pylint: disable=broad-except  # reported per service
        return e


def wait_for(factory, items, p):
    """Poll (one call per account, region and cluster) until every service serves its count or the deadline."""
    states = {}
    if not p["wait"]:
        return states
    pauses = Poll(p["wait_timeout"], p["poll_interval"])
    waiting = list(items)

    def poll(by_key, key):
        client = factory.client("ecs", account_id=key[0], region=key[1])
        return ecs.read_services(client, [i["host"]["dr_resource_id"] for i in by_key[key]], key[0], key[1])

    while waiting:
        by_key = {}
        for item in waiting:
            by_key.setdefault((item["host"].get("dr_account_id"), item["side"]["region"]), []).append(item)
        try:
            polled = run_concurrently(functools.partial(poll, by_key), list(by_key))
        except ecs.ServiceReadError:
            polled = {}
        still = []
        for key, group in by_key.items():
            for item in group:
                state = (polled.get(key) or {}).get(item["host"]["dr_resource_id"])
                states[id(item)] = state
                if not ecs.serving(state, item["desired"]):
                    still.append(item)
        waiting = still
        if not waiting or not pauses.pause():
            break
    return states


if __name__ == "__main__":
    main()
