#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: route53_failover
short_description: Move DNS of Route 53 hosted zones to the region taking over (failover and weighted records)
version_added: 0.2.0
description:
  - One run handles every hosted zone of a wave; Route 53 is global, so one client per account.
  - In each zone, a record takes part when its C(SetIdentifier) names the primary or the DR region and it is a
    failover or weighted record (optionally only the names of the zone's C(dr:record-names) tag).
  - Failover records move through their health checks. When the region taking over holds the SECONDARY record, the
    PRIMARY record's health check is inverted (Route 53 then answers the SECONDARY); the record taking over gets its
    health check un-inverted. A failback is the mirror.
  - Weighted records of one name move their weight to the region taking over in one change batch.
  - Then it waits for the change to be C(INSYNC) and validates resolution with C(TestDNSAnswer) (the record set
    answers with the values of the region taking over) and the health check state.
  - Before a planned flip the record taking over must have a healthy health check; O(emergency=true) flips at once.
  - Before any change, the C(Customer)/C(Environment) tags of every zone and of every health check it changes are
    checked; one out of scope refuses the whole run.
  - O(action=plan) (a drill) and check mode change nothing and return, per zone, what O(action=activate) would change.
  - Resume-safe - the live records and health checks are read first; what already moved gets no call.
options:
  hosts:
    description: The wave's hosted zones, each the host's C(dr_*) variables (C(dr_arn), C(inventory_hostname),
      C(dr_account_id), C(dr_resource_id) (the zone ID), C(dr_primary_region), C(dr_dr_region), C(dr_tags)).
    type: list
    elements: dict
    required: true
  action:
    description: C(activate) moves DNS; C(plan) reports what would move and changes nothing.
    type: str
    choices: [activate, plan]
    default: activate
  direction:
    description: C(failover) moves DNS to the DR region, C(failback) back to the primary region.
    type: str
    choices: [failover, failback]
    default: failover
  emergency:
    description: Flip at once, without requiring the record taking over to be healthy first.
    type: bool
    default: false
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
- name: Move acme's DNS to the DR region
  enterprise_dr.orchestration.route53_failover:
    hosts: "{{ adapter_hosts }}"
    customer: acme
    wait_timeout: 300
"""

RETURN = r"""
zones:
  description: One row per hosted zone (C(resource) is the host's ARN).
  returned: always
  type: list
  elements: dict
  contains:
    resource: {description: The zone's ARN., type: str}
    name: {description: The inventory host., type: str}
    status: {description: C(succeeded) or C(failed)., type: str}
    summary: {description: One line for people., type: str}
    changed: {description: Whether DNS was (or would be) changed., type: bool}
    plan: {description: "What ACTIVATE changes (check mode, drills).", type: list}
    before: {description: Each record's routing and health check before., type: dict}
    after: {description: "The change ID, the answers DNS gives and the serving region.", type: dict}
    error: {description: What failed., type: str}
    remediation: {description: The fix., type: str}
"""

import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs as pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import route53 as r53
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import Poll
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import until as poll_until

GLOBAL_REGION = "us-east-1"  # Route 53's control plane


def read_zone(client, zone_id):
    records = client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id).build_full_result()[
        "ResourceRecordSets"]
    zone_tags = boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(
        ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"].get("Tags") or [])
    check_ids = sorted({r["HealthCheckId"] for r in records if r.get("HealthCheckId")})
    checks, check_tags = {}, {}
    for check_id in check_ids:
        check = client.get_health_check(HealthCheckId=check_id)["HealthCheck"]
        config = check.get("HealthCheckConfig") or {}
        checks[check_id] = {"inverted": bool(config.get("Inverted")), "disabled": bool(config.get("Disabled")),
                            "version": check.get("HealthCheckVersion")}
    for start in range(0, len(check_ids), 10):
        answer = client.list_tags_for_resources(ResourceType="healthcheck", ResourceIds=check_ids[start:start + 10])
        for tag_set in answer.get("ResourceTagSets") or []:
            check_tags[tag_set["ResourceId"]] = boto3_tag_list_to_ansible_dict(tag_set.get("Tags") or [])
    return records, zone_tags, checks, check_tags


def check_healthy(client, check_id):
    observations = client.get_health_check_status(HealthCheckId=check_id).get("HealthCheckObservations") or []
    good = [o for o in observations if ((o.get("StatusReport") or {}).get("Status") or "").startswith("Success")]
    # Route 53 considers an endpoint healthy when more than 18 % of its checkers report it healthy.
    return bool(observations) and len(good) / len(observations) > 0.18


def main():
    argument_spec = dict(
        hosts=dict(type="list", elements="dict", required=True),
        action=dict(type="str", choices=["activate", "plan"], default="activate"),
        direction=dict(type="str", choices=["failover", "failback"], default="failover"),
        emergency=dict(type="bool", default=False),
        primary_region=dict(type="str"),
        dr_region=dict(type="str"),
        **SCOPE_ARGUMENT_SPEC,
        **ACCOUNTS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    dry = module.check_mode or p["action"] == "plan"
    rows, zones, scope = [], [], []
    try:
        factory = ClientFactory(module, p["accounts"])
        for host in p["hosts"]:
            if ":healthcheck/" in (host.get("dr_arn") or ""):
                why = f"{host.get('dr_arn')} is a health check: the hosted zone is the failover unit"
                rows.append(pairs.row(host, "failed", why, error=why, remediation=(
                    "tag the hosted zone with the DR tags instead and keep only Customer/Environment on the health "
                    "check")))
                continue
            client = factory.client("route53", account_id=host.get("dr_account_id"), region=GLOBAL_REGION)
            zone_id = host["dr_resource_id"]
            records, zone_tags, checks, check_tags = read_zone(client, zone_id)
            source_region, target_region = pairs.sides(host, p["direction"], p["primary_region"], p["dr_region"])
            plan = r53.plan_zone(records, checks, source_region, target_region, r53.wanted_names(zone_tags))
            scope.append((f"hosted zone {zone_id} ({pairs.label(host)})", zone_tags))
            scope.extend((f"health check {c['id']} of zone {zone_id}", check_tags.get(c["id"]) or {})
                         for c in plan["check_changes"])
            zones.append({"host": host, "client": client, "plan": plan, "target_region": target_region})
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile; nothing was changed")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the hosted zones; nothing was changed")
    try:
        check_scope(scope, p["customer"], p["environment"])
    except ScopeError as e:
        module.fail_json(msg=str(e) + "; nothing was changed", violations=e.violations)

    for zone in zones:
        host, plan, client = zone["host"], zone["plan"], zone["client"]
        changes = plan["lines"] or ["nothing to change: DNS already answers from " + zone["target_region"]]
        before = {"records": plan["before"]}
        if plan["problems"]:
            text = "; ".join(plan["problems"])
            rows.append(pairs.row(host, "failed", text, before=before, error=text, plan=changes, remediation=(
                "give every failover/weighted record a SetIdentifier naming its region and the PRIMARY record a "
                "health check, or list the records to move in the zone's dr:record-names tag")))
            continue
        if dry:
            summary = f"DNS would move to {zone['target_region']}: " + "; ".join(changes)
            rows.append(pairs.row(host, "succeeded", summary, before=before, plan=changes,
                                  changed=bool(plan["lines"]),
                                  after={"would_answer": {f"{e['name']} {e['type']}": e["values"]
                                                          for e in plan["expected"]}}))
            continue
        try:
            rows.append(activate(module, client, host, plan, zone["target_region"], before, changes))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            rows.append(pairs.row(host, "failed", f"DNS change failed: {pairs.error_text(e)}", before=before,
                                  error=pairs.error_text(e), remediation="fix the error above and re-run ACTIVATE "
                                  "(what already moved is not changed again)"))
    module.exit_json(changed=any(r["changed"] for r in rows), zones=rows, diff=pairs.diff_of(rows))


def activate(module, client, host, plan, target_region, before, changes):
    p = module.params
    zone_id = host["dr_resource_id"]
    if not p["emergency"]:
        for expected in plan["expected"]:
            if expected["health_check_id"] and not any(c["id"] == expected["health_check_id"] and not c["inverted"]
                                                       for c in plan["check_changes"]):
                if not check_healthy(client, expected["health_check_id"]):
                    why = (f"{expected['name']} {expected['type']}: the health check {expected['health_check_id']} of "
                           f"{expected['set_identifier']} ({target_region}) is unhealthy")
                    return pairs.row(host, "failed", f"refusing to move DNS to an unhealthy endpoint: {why}",
                                     before=before, error=why, remediation=(
                                         "make the DR endpoint healthy first, or run with -e emergency=true to "
                                         "flip at once"))
    started = time.monotonic()
    change_id = None
    for check in plan["check_changes"]:
        params = {"HealthCheckId": check["id"], "Inverted": check["inverted"]}
        if check.get("version"):
            params["HealthCheckVersion"] = check["version"]
        client.update_health_check(**params)
    if plan["record_changes"]:
        change_id = client.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Comment": "enterprise_dr failover to " + target_region,
                                               "Changes": plan["record_changes"]})["ChangeInfo"]["Id"]
    timeout = max(0, started + p["wait_timeout"] - time.monotonic())
    insync = change_id is None
    if change_id and p["wait"]:
        insync = poll_until(lambda: client.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC", timeout,
                            p["poll_interval"])[0]
    insync_seconds = round(time.monotonic() - started, 1)
    # Resolution: each moved record set answers with the region taking over (health checks evaluated first).
    answered = {}
    pauses = Poll(max(0, started + p["wait_timeout"] - time.monotonic()), p["poll_interval"])
    while p["wait"]:
        answered = {}
        for expected in plan["expected"]:
            data = client.test_dns_answer(HostedZoneId=zone_id, RecordName=expected["name"],
                                          RecordType=expected["type"]).get("RecordData") or []
            answered[f"{expected['name']} {expected['type']}"] = (data, r53.answers(expected, data))
        if all(ok for _data, ok in answered.values()) or not pauses.pause():
            break
    health = {e["health_check_id"]: check_healthy(client, e["health_check_id"])
              for e in plan["expected"] if e["health_check_id"]}
    after = {"serving_region": target_region, "change_id": change_id, "insync": insync,
             "dns_seconds": round(time.monotonic() - started, 1), "insync_seconds": insync_seconds,
             "answers": {k: v[0] for k, v in answered.items()}, "health_checks_healthy": health}
    wrong = [k for k, (_data, ok) in answered.items() if not ok]
    changed = bool(plan["lines"])
    if not insync or wrong or not all(health.values()):
        why = ("change " + str(change_id) + " not INSYNC" if not insync else
               ("still answering the old region: " + ", ".join(wrong) if wrong else "health check unhealthy"))
        return pairs.row(host, "failed", f"DNS did not move to {target_region} within {p['wait_timeout']} s: {why}",
                         before=before, after=after, changed=changed, error=why, remediation=(
                             "check the health checks and records of the zone (TestDNSAnswer), then re-run ACTIVATE"))
    summary = (f"DNS answers from {target_region} after {after['dns_seconds']} s: " + "; ".join(changes))
    return pairs.row(host, "succeeded", summary, before=before, after=after, changed=changed)


if __name__ == "__main__":
    main()
