#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: lambda_failover
short_description: Publish, activate, prune or drill Lambda function pairs for a failover, all of a wave at once
version_added: 0.2.0
description:
  - One run handles every Lambda function of a wave, one client per account and region. The inventory host is the DR
    region's function when both copies are tagged; its twin in the other region has the same name. The alias moved
    is the one clients invoke - C(dr:alias), else the function's only alias.
  - O(action=publish) (INSTANTIATE) publishes a version of the C($LATEST) code of the function that takes over, unless
    its newest version already is that code and configuration.
  - O(action=activate) points that function's alias at the version (published now if INSTANTIATE did not run),
    clears any routing weights, sets reserved and provisioned concurrency to the production levels captured in
    PREFLIGHT (O(recorded) C(before.production)), else the serving function's live levels, else the
    C(dr:reserved-concurrency) and C(dr:provisioned-concurrency) tags; enables the function's event source mappings
    in its region and disables those of the old region (skipped with the fix when that region does not answer);
    waits until the provisioned concurrency is C(READY) and the mappings are C(Enabled) / C(Disabled).
  - O(action=prune) (CLEANUP) deletes the versions of the serving function beyond the newest O(keep_versions); a
    version an alias, a routing weight, a provisioned concurrency configuration or an event source mapping uses is
    never deleted.
  - O(action=drill) invokes the DR function's alias with O(drill_payload) and reports its answer; nothing changes.
  - Before any change, the C(Customer) and C(Environment) tags of every function touched are checked; one function out
    of scope refuses the whole run and nothing changes.
  - Idempotent and resume-safe - every step reads the live state first (alias version, concurrency, mapping states),
    so a re-run after a kill does each step once.
  - Check mode makes no change and returns RV(functions[].plan); C(--diff) shows before and after.
options:
  hosts:
    description: The wave's Lambda functions, each the host's C(dr_*) variables (C(dr_arn), C(inventory_hostname),
      C(dr_account_id), C(dr_resource_name), C(dr_lambda), C(dr_primary_region), C(dr_dr_region), C(dr_tags)).
    type: list
    elements: dict
    required: true
  action:
    description: What to do with each function pair.
    type: str
    choices: [publish, activate, prune, drill]
    required: true
  direction:
    description: C(failover) moves serving to the DR region, C(failback) back to the primary region.
    type: str
    choices: [failover, failback]
    default: failover
  recorded:
    description:
      - The execution record's resource entries
        (RV(enterprise_dr.orchestration.execution_record_info#module:execution.resources)).
    type: list
    elements: dict
    default: []
  keep_versions:
    description:
      - Published versions O(action=prune) keeps (the newest), besides those in use; a function's
        C(dr:keep-versions) tag overrides it.
    type: int
    default: 3
  drill_payload:
    description: The event a drill invokes the DR alias with.
    type: dict
    default: {dr_drill: true}
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
- name: Move the DR aliases and give the DR functions production concurrency
  enterprise_dr.orchestration.lambda_failover:
    hosts: "{{ adapter_hosts }}"
    action: activate
    recorded: "{{ record.execution.resources }}"
    customer: acme
    environment: production

- name: Invoke the DR aliases (a drill, nothing changes)
  enterprise_dr.orchestration.lambda_failover:
    hosts: "{{ adapter_hosts }}"
    action: drill
    drill_payload: {dr_drill: true, execution_id: "{{ execution_id }}"}
    customer: acme
"""

RETURN = r"""
functions:
  description: One row per function pair, in the one record-entry shape (C(resource) is the host's ARN).
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
      description: C(succeeded), C(failed) or C(skipped).
      type: str
    summary:
      description: One line for people.
      type: str
    changed:
      description: Whether the function was (or would be) changed.
      type: bool
    before:
      description: The function's state before (alias version, concurrency, mapping states, per region).
      type: dict
    after:
      description: What the phase left - the version published, the alias version, concurrency, mapping states, the
        versions deleted, or the drill's answer.
      type: dict
    plan:
      description: What would happen (check mode).
      type: str
    error:
      description: What failed.
      type: str
    remediation:
      description: The fix.
      type: str
diff:
  description: Before and after of the functions that changed.
  returned: when changed
  type: dict
"""

import json
import time

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import lambda_function as lam
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs as pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import map_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import Poll

MAX_PAYLOAD_SHOWN = 512
NOTHING_TO_DO = {"publish": "its newest version already is $LATEST", "prune": "no version beyond those kept",
                 "activate": "its alias, concurrency and event sources already serve"}


def before_of(one):
    # PREFLIGHT wrote before.production (the serving side); a phase adds the side it changes under its region.
    region = one["region"]
    return {f"alias_version_{region}": one.get("alias_version"),
            f"reserved_concurrency_{region}": one.get("reserved_concurrency"),
            f"provisioned_concurrency_{region}": (one.get("provisioned") or {}).get("requested"),
            f"event_sources_{region}": {m["uuid"]: m["state"] for m in one.get("event_sources") or []}}


def _client(factory, host, region):
    return factory.client("lambda", account_id=host.get("dr_account_id"), region=region)


def _guard(func, item):
    try:
        return func(item)
    except Exception as e:  # pylint: disable=broad-except  # reported per function
        return e


# ------------------------------------------------------------------------------------------- planning
def plan_item(action, host, source, target, p):
    """The work for one function: a dict, or a failed/skipped row."""
    name = lam.function_name(host)
    if not target.get("exists"):
        why = target.get("error") or f"no Lambda function {name} in {target['region']}"
        return pairs.row(host, "failed", why, error=why, remediation=(
            f"deploy {name} in {target['region']} (same name and alias as its twin) or leave it out of the run"))
    if not target.get("alias"):
        why = f"{name} in {target['region']}: {target.get('alias_error')}"
        return pairs.row(host, "failed", f"no alias to move: {why}", error=why, remediation=(
            f"create the alias clients invoke, or tag the function {lam.TAG_ALIAS}=<alias> when it has several"))
    item = {"host": host, "name": name, "source": source, "target": target, "alias": target["alias"],
            "steps": [], "change": False}
    if action in ("publish", "activate"):
        version, publish = lam.version_to_serve(target)
        item.update(version=version, publish=publish)
        if publish:
            item["steps"].append(("publish", None))
    if action == "activate":
        before = pairs.recorded_before(p["recorded"], host.get("dr_arn"))
        levels = lam.production_levels(host, before, source)
        item["levels"] = levels
        moves = item["publish"] or target.get("alias_version") != item["version"] or bool(
            (target["aliases"].get(target["alias"]) or {}).get("weights"))
        if moves:
            item["steps"].append(("alias", None))
        item["steps"].extend(lam.concurrency_steps(target, levels))
        enable, disable = lam.event_source_steps(target, source if source.get("reachable") else {})
        item["steps"].extend(("enable_esm", uuid) for uuid in enable)
        item["steps"].extend(("disable_esm", uuid) for uuid in disable)
    if action == "prune":
        item["keep"] = lam.keep_for(host, p["keep_versions"])
        item["delete"] = lam.versions_to_delete(target, item["keep"], target.get("provisioned_qualifiers", ()))
        item["steps"].extend(("delete_version", v) for v in item["delete"])
    item["change"] = bool(item["steps"])
    return item


def describe_step(item, step):
    kind, arg = step
    target, source = item["target"], item["source"]
    version = item.get("version") or "the new version"
    return {
        "publish": f"publish a version of $LATEST in {target['region']}",
        "alias": f"point {item['alias']} at version {version} (was {target.get('alias_version')})",
        "put_reserved": f"reserved concurrency {target.get('reserved_concurrency')} -> {arg}",
        "delete_reserved": f"remove reserved concurrency {target.get('reserved_concurrency')} (unreserved)",
        "put_provisioned": f"provisioned concurrency on {item['alias']} -> {arg} (wait READY)",
        "enable_esm": f"enable event source mapping {arg} in {target['region']}",
        "disable_esm": f"disable event source mapping {arg} in {source.get('region')}",
        "delete_version": f"delete version {arg}",
    }[kind]


def predicted_after(action, item):
    target = item["target"]
    if action == "publish":
        return {"published_version": item.get("version") or "(new)", "published_region": target["region"]}
    if action == "prune":
        return {"deleted_versions": item["delete"], "serving_region": target["region"]}
    levels = item["levels"]
    return {"region": target["region"], "alias": item["alias"], "alias_version": item.get("version") or "(new)",
            "reserved_concurrency": levels["reserved"] if levels["known"] else target.get("reserved_concurrency"),
            "provisioned_concurrency": levels["provisioned"] if levels["known"] else None,
            "old_region": item["source"].get("region")}


def plan_text(action, item):
    name, target = item["name"], item["target"]
    if action == "drill":
        return (f"would invoke {name}:{item['alias']} (version {target.get('alias_version')}) in {target['region']} "
                "with the drill payload; nothing changes")
    if not item["steps"]:
        return f"{name} in {target['region']}: nothing to do ({NOTHING_TO_DO[action]})"
    text = f"{name} in {target['region']}: would " + "; ".join(describe_step(item, s) for s in item["steps"])
    if action == "activate":
        text += f" ({item['levels']['origin']})"
        if not item["source"].get("reachable"):
            text += f"; {item['source']['region']} does not answer: its event sources are left as they are"
    return text


# ------------------------------------------------------------------------------------------- doing
def apply_steps(factory, item):
    """Run the item's steps in order; returns what was done (raises on the first failure, after noting progress)."""
    host, target, source = item["host"], item["target"], item["source"]
    client = _client(factory, host, target["region"])
    done = item.setdefault("done", [])
    for kind, arg in item["steps"]:
        if kind == "publish":
            item["version"] = client.publish_version(FunctionName=item["name"])["Version"]
        elif kind == "alias":
            params = {"FunctionName": item["name"], "Name": item["alias"], "FunctionVersion": item["version"],
                      "RoutingConfig": {"AdditionalVersionWeights": {}}}
            revision = (target["aliases"].get(item["alias"]) or {}).get("revision_id")
            if revision:
                params["RevisionId"] = revision
            client.update_alias(**params)
        elif kind == "put_reserved":
            client.put_function_concurrency(FunctionName=item["name"], ReservedConcurrentExecutions=arg)
        elif kind == "delete_reserved":
            client.delete_function_concurrency(FunctionName=item["name"])
        elif kind == "put_provisioned":
            client.put_provisioned_concurrency_config(FunctionName=item["name"], Qualifier=item["alias"],
                                                      ProvisionedConcurrentExecutions=arg)
        elif kind == "enable_esm":
            client.update_event_source_mapping(UUID=arg, Enabled=True)
        elif kind == "disable_esm":
            _client(factory, host, source["region"]).update_event_source_mapping(UUID=arg, Enabled=False)
        elif kind == "delete_version":
            client.delete_function(FunctionName=item["name"], Qualifier=arg)
        done.append((kind, arg))
    return done


def settled(factory, item):
    """``(done, what is still awaited)`` of one activated function, read live."""
    host, target, source = item["host"], item["target"], item["source"]
    waiting = []
    wanted = item["levels"]["provisioned"] if item["levels"]["known"] else None
    if wanted:
        provisioned = lam.read_provisioned(_client(factory, host, target["region"]), item["name"], item["alias"])
        item["provisioned"] = provisioned
        if provisioned and provisioned.get("status") == "FAILED":
            raise RuntimeError(f"provisioned concurrency FAILED: {provisioned.get('status_reason')}")
        if not lam.provisioned_ready(provisioned, wanted):
            waiting.append(f"provisioned concurrency {(provisioned or {}).get('status') or 'absent'} "
                           f"({(provisioned or {}).get('allocated') or 0}/{wanted} allocated)")
    for region_side, states in ((target, lam.ESM_ON), (source, lam.ESM_OFF)):
        if not region_side.get("reachable") or not region_side.get("event_sources"):
            continue
        client = _client(factory, host, region_side["region"])
        current = {}
        for mapping in region_side["event_sources"]:
            state = lam.esm_state(client.get_event_source_mapping(UUID=mapping["uuid"]))["state"]
            current[mapping["uuid"]] = state
            final = states[0]
            if state != final:
                waiting.append(f"event source mapping {mapping['uuid']} in {region_side['region']} {state}")
        item.setdefault("esm_now", {})[region_side["region"]] = current
    return not waiting, waiting


def wait_for(factory, items, p):
    if not p["wait"] or not items:
        return {}
    pauses = Poll(p["wait_timeout"], p["poll_interval"])
    pending = {id(i): i for i in items}
    outcome = {}
    while pending:
        results = map_concurrently(lambda i: _guard(lambda x: settled(factory, x), i), list(pending.values()))
        for item, result in zip(list(pending.values()), results):
            if isinstance(result, Exception):
                outcome[id(item)] = ("failed", pairs.error_text(result))
                pending.pop(id(item))
            elif result[0]:
                outcome[id(item)] = ("ready", None)
                pending.pop(id(item))
            else:
                outcome[id(item)] = ("waiting", ", ".join(result[1]))
        if not pending or not pauses.pause():
            break
    return outcome


def invoke(factory, item, payload):
    client = _client(factory, item["host"], item["target"]["region"])
    started = time.monotonic()
    answer = client.invoke(FunctionName=item["name"], Qualifier=item["alias"], InvocationType="RequestResponse",
                           Payload=json.dumps(payload).encode())
    elapsed = round((time.monotonic() - started) * 1000)
    body = answer["Payload"].read().decode("utf-8", "replace") if answer.get("Payload") else ""
    return {"status_code": answer.get("StatusCode"), "executed_version": answer.get("ExecutedVersion"),
            "function_error": answer.get("FunctionError"), "duration_ms": elapsed,
            "response": body[:MAX_PAYLOAD_SHOWN]}


def list_provisioned_qualifiers(factory, item):
    client = _client(factory, item["host"], item["target"]["region"])
    configs = lam.pages(client, "list_provisioned_concurrency_configs", "ProvisionedConcurrencyConfigs",
                        FunctionName=item["name"])
    return [lam.unqualified(c.get("FunctionArn"))[1] for c in configs if lam.unqualified(c.get("FunctionArn"))[1]]


def result_row(action, item, outcome, p):
    host, name, target, source = item["host"], item["name"], item["target"], item["source"]
    before = before_of(target)
    if action == "activate" and source.get("reachable") and source.get("exists"):
        before.update({k: v for k, v in before_of(source).items() if k.startswith("event_sources_")})
    if item.get("error"):
        done = ", ".join(describe_step(item, s) for s in item.get("done") or []) or "nothing"
        return pairs.row(host, "failed", f"{name} in {target['region']}: {item['error']} (done: {done})",
                         before=before, changed=bool(item.get("done")), error=item["error"],
                         remediation="fix the error above and re-run the phase (steps already done are not repeated)")
    if action == "publish":
        after = {"published_version": item["version"], "published_region": target["region"]}
        summary = (f"{name} in {target['region']}: published version {item['version']}" if item["change"]
                   else f"{name} in {target['region']}: version {item['version']} already is $LATEST")
        return pairs.row(host, "succeeded", summary, before=before, after=after, changed=item["change"])
    if action == "prune":
        kept = [v["version"] for v in target.get("versions") or [] if v["version"] not in item["delete"]]
        after = {"deleted_versions": item["delete"], "kept_versions": kept, "serving_region": target["region"]}
        serving = f"{name} serves {item['alias']} -> version {target.get('alias_version')} in {target['region']}"
        summary = (f"{serving}; deleted versions {', '.join(item['delete'])}, kept {', '.join(kept) or 'none'}"
                   if item["delete"] else f"{serving}; no version beyond the {item['keep']} kept to delete")
        return pairs.row(host, "succeeded", summary, before=before, after=after, changed=item["change"])
    levels = item["levels"]
    provisioned = item.get("provisioned") or target.get("provisioned") or {}
    reserved = levels["reserved"] if levels["known"] else (
        None if ("delete_reserved", None) in item["steps"] else target.get("reserved_concurrency"))
    after = {"region": target["region"], "alias": item["alias"], "alias_version": item["version"],
             "reserved_concurrency": reserved if reserved is not None else "unreserved",
             "provisioned_concurrency": (f"{provisioned.get('allocated')}/{provisioned.get('requested')} "
                                         f"{provisioned.get('status')}") if provisioned else "none",
             "event_sources": (item.get("esm_now") or {}).get(target["region"]) or {
                 m["uuid"]: m["state"] for m in target.get("event_sources") or []},
             "old_region": source.get("region"),
             "old_event_sources": (item.get("esm_now") or {}).get(source.get("region")) if source.get("reachable")
             else "not answering"}
    state, detail = outcome.get(id(item), ("ready", None))
    if state == "failed" or (state == "waiting" and p["wait"]):
        why = detail if state == "failed" else f"still {detail} after {p['wait_timeout']} s"
        return pairs.row(host, "failed", f"{name} in {target['region']}: {why}", before=before, after=after,
                         changed=item["change"], error=why, remediation=(
                             "check the account's concurrency quota (unreserved concurrency must stay >= 100) and the "
                             "event sources, then re-run ACTIVATE (it does not repeat what is done)"))
    summary = (f"{name} took over in {target['region']}: {item['alias']} -> version {item['version']}, "
               f"{lam.levels_text(reserved, levels['provisioned'] if levels['known'] else None)} ({levels['origin']}), "
               f"{len(target.get('event_sources') or [])} event sources enabled")
    if source.get("reachable"):
        summary += f", {len(source.get('event_sources') or [])} disabled in {source['region']}"
    else:
        summary += (f"; {source['region']} does not answer: re-run ACTIVATE when it does to disable its event "
                    "sources")
    if not item["change"]:
        summary += " (already so)"
    return pairs.row(host, "succeeded", summary, before=before, after=after, changed=item["change"])


def drill_row(item, answer):
    host, name, target = item["host"], item["name"], item["target"]
    before = before_of(target)
    if isinstance(answer, Exception):
        why = pairs.error_text(answer)
        return pairs.row(host, "failed", f"{name}:{item['alias']} in {target['region']} did not answer: {why}",
                         before=before, error=why, remediation=(
                             "check the DR function's code, role and reserved concurrency (0 throttles every "
                             "invocation), then re-run the drill"))
    after = {"invoked": f"{name}:{item['alias']}", "region": target["region"], **answer}
    if answer.get("function_error") or (answer.get("status_code") or 0) >= 300:
        why = f"answered {answer.get('status_code')} {answer.get('function_error') or ''}: {answer.get('response')}"
        return pairs.row(host, "failed", f"{name}:{item['alias']} in {target['region']} {why}", before=before,
                         after=after, error=why, remediation="fix the DR function's code or configuration, then "
                                                             "re-run the drill")
    return pairs.row(host, "succeeded", f"{name}:{item['alias']} (version {answer.get('executed_version')}) in "
                     f"{target['region']} answered {answer.get('status_code')} in {answer['duration_ms']} ms",
                     before=before, after=after)


def main():
    argument_spec = dict(
        hosts=dict(type="list", elements="dict", required=True),
        action=dict(type="str", choices=["publish", "activate", "prune", "drill"], required=True),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        recorded=dict(type="list", elements="dict", default=[]),
        keep_versions=dict(type="int", default=lam.DEFAULT_KEEP_VERSIONS),
        drill_payload=dict(type="dict", default={"dr_drill": True}),
        primary_region=dict(type="str"),
        dr_region=dict(type="str"),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    action = p["action"]
    if p["keep_versions"] < 1:
        module.fail_json(msg=f"keep_versions={p['keep_versions']}: keep at least 1 version")
    direction = "failover" if action == "drill" else p["direction"]
    try:
        factory = ClientFactory(module, p["accounts"])
        found = lam.read_sides(factory, p["hosts"], direction, p["primary_region"], p["dr_region"],
                               with_versions=action in ("publish", "activate", "prune"),
                               regions=None if action == "activate" else ("target",))
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")

    rows, work, in_scope_check = [], [], []
    for host in p["hosts"]:
        source_region, target_region = pairs.sides(host, direction, p["primary_region"], p["dr_region"])
        source, target = lam.side(found, host, source_region), lam.side(found, host, target_region)
        name = lam.function_name(host)
        for one in (source, target):
            if one.get("exists"):
                in_scope_check.append((f"Lambda function {name} in {one['region']} ({pairs.label(host)})",
                                       one.get("tags")))
        if action == "prune" and target.get("exists"):
            try:
                target["provisioned_qualifiers"] = list_provisioned_qualifiers(
                    factory, {"host": host, "target": target, "name": name})
            except Exception as e:  # pylint: disable=broad-except  # reported per function
                why = pairs.error_text(e)
                rows.append(pairs.row(host, "failed", f"{name}: cannot list provisioned concurrency: {why}",
                                      error=why, remediation="grant lambda:ListProvisionedConcurrencyConfigs, re-run"))
                continue
        planned = plan_item(action, host, source, target, p)
        if "host" in planned:
            work.append(planned)
        else:
            rows.append(planned)
    try:
        check_scope(in_scope_check, p["customer"], p["environment"])
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)

    if module.check_mode:
        for item in work:
            plan = plan_text(action, item)
            after = {} if action == "drill" else predicted_after(action, item)
            rows.append(pairs.row(item["host"], "succeeded", plan, before=before_of(item["target"]), after=after,
                                  plan=plan, changed=item["change"]))
        module.exit_json(changed=any(r["changed"] for r in rows), functions=rows, diff=pairs.diff_of(rows))

    if action == "drill":
        answers = map_concurrently(lambda i: _guard(lambda x: invoke(factory, x, p["drill_payload"]), i), work)
        rows.extend(drill_row(item, answer) for item, answer in zip(work, answers))
        module.exit_json(changed=False, functions=rows)

    for item, result in zip(work, map_concurrently(lambda i: _guard(lambda x: apply_steps(factory, x), i), work)):
        if isinstance(result, Exception):
            item["error"] = pairs.error_text(result)
    outcome = {}
    if action == "activate":
        outcome = wait_for(factory, [i for i in work if not i.get("error")], p)
    rows.extend(result_row(action, item, outcome, p) for item in work)
    module.exit_json(changed=any(r["changed"] for r in rows), functions=rows, diff=pairs.diff_of(rows))


if __name__ == "__main__":
    main()
