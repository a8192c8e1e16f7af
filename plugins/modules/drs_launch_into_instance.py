#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_launch_into_instance
short_description: Point DRS source servers at their pre-provisioned, stopped recovery instances
version_added: 0.1.0
description:
  - For a wave of AWS Elastic Disaster Recovery source servers, finds the pre-provisioned EC2
    instances (tagged C(AWSDRS=AllowLaunchingIntoThisInstance)) in each server's recovery account
    and region, matches each server's hostname to one instance's C(Name) tag, checks the launch-into
    prerequisites, and sets the server's launch-into instance, so a recovery keeps the instance ID
    and private IP of the pre-provisioned instance.
  - "Matching: a pinned O(servers[].target_instance_id) wins; otherwise the hostname and the Name are
    compared case-insensitively without surrounding whitespace, exactly and one to one. Fuzzy matching
    is off unless O(fuzzy_threshold) is set, and even then the role token and the numbers of a
    C({customer}-{environment}-{workload}-{role}{number}) name must be equal (C(app01) never matches C(app10))."
  - Unmatched servers, two targets with one Name and two servers with one hostname are reported by name
    and fail the task before any change, unless O(allow_partial=true).
  - "Prerequisites checked for each pair, failing with the server, the target and the fix: the target is
    tagged, stopped, in the server's recovery region, its subnet exists, and architecture, platform and
    (for Linux) boot mode agree where both sides report them."
  - "Configuration takes two UpdateLaunchConfiguration calls per server: first C(copyPrivateIp) and
    C(copyTags) off and right-sizing C(NONE), then C(launchIntoInstanceProperties.launchIntoEC2InstanceID)."
  - In check mode the module returns the whole match plan and makes no change.
  - Before any change, every server's own C(Customer)/C(Environment) DRS tags are checked against the scope.
    A target whose own C(Customer)/C(Environment) tags name another scope is never a candidate, and pinning
    one is refused.
options:
  servers:
    description: The source servers, each in its DRS recovery account and region.
    type: list
    elements: dict
    required: true
    suboptions:
      source_server_id:
        description: The DRS source server ID (C(s-...)).
        type: str
        required: true
      account_id:
        description: The DRS recovery account. Defaults to the module's own credentials.
        type: str
      region:
        description: The DRS recovery region, where the targets are. Defaults to the module's region.
        type: str
      hostname:
        description: The name to match against the targets' Name tags. Defaults to the hostname DRS reports.
        type: str
      priority:
        description: The server's priority (informational here).
        type: str
        choices: [critical, high, medium, low]
      target_instance_id:
        description: Pin the server to this target instead of matching by name.
        type: str
  state:
    description:
      - C(present) sets the matched launch-into instance; C(absent) removes the launch-into instance
        (DRS then launches a new instance), without matching.
    type: str
    choices: [present, absent]
    default: present
  fuzzy_threshold:
    description:
      - Enable fuzzy matching for servers without an exact match, accepting a similarity from 0 to 1
        (for example C(0.85)). Off by default.
    type: float
  allow_partial:
    description:
      - Configure the cleanly matched, valid servers even when others are unmatched, duplicated or invalid;
        those are returned in RV(problems) and RV(unmatched_servers) and left unchanged.
    type: bool
    default: false
  fail_on_unmatched_targets:
    description:
      - Fail when an in-scope target in a server's account and region is matched by no server.
      - Off by default because the targets of later waves share the account and region; unmatched
        targets are returned in RV(unmatched_targets) and, unless O(warn_on_unmatched_targets=false),
        warned about.
    type: bool
    default: false
  warn_on_unmatched_targets:
    description:
      - Warn about in-scope targets that no server of this call matched.
      - Turn it off for calls that cover one wave of a larger run, where the other waves' targets are
        expected to be unmatched (the lifecycle roles report them once, in PREFLIGHT, over the whole run).
      - With it off, O(fail_on_unmatched_targets=false) and a C(target_instance_id) for every server, only those
        targets are read (not every target of the account and region), and RV(unmatched_targets) and
        RV(duplicate_targets) are empty.
    type: bool
    default: true
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
- name: Launch wave 1 into its pre-provisioned instances
  enterprise_dr.orchestration.drs_launch_into_instance:
    customer: acme
    env: production
    region: us-west-2
    accounts:
      - account_id: "210987654321"
        role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-a
    servers:
      - source_server_id: s-1234567890abcdef0
        account_id: "210987654321"
        hostname: acme-prod-app01
      - source_server_id: s-1234567890abcdef1
        account_id: "210987654321"
        target_instance_id: i-0a1b2c3d4e5f60718
  register: launch_into

- name: Show the plan without changing anything
  enterprise_dr.orchestration.drs_launch_into_instance:
    customer: acme
    servers: "{{ wave_servers }}"
    fuzzy_threshold: 0.85
  check_mode: true
  register: plan

- name: Launch new instances again
  enterprise_dr.orchestration.drs_launch_into_instance:
    customer: acme
    servers: "{{ wave_servers }}"
    state: absent
"""

RETURN = r"""
plan:
  description: One entry per configured (or, in check mode, to be configured) server.
  returned: always
  type: list
  elements: dict
  contains:
    source_server_id:
      description: The source server ID.
      type: str
    hostname:
      description: The hostname that was matched.
      type: str
    account_id:
      description: The recovery account.
      type: str
    region:
      description: The recovery region.
      type: str
    method:
      description: How the target was found - C(pinned), C(exact) or C(fuzzy); null with O(state=absent).
      type: str
    score:
      description: Name similarity (1 for exact and pinned).
      type: float
    target:
      description: The target - C(instance_id), C(name), C(private_ip), C(subnet_id), C(security_group_ids), C(state).
      type: dict
    changed:
      description: Whether the launch settings changed (in check mode, would change).
      type: bool
    changes:
      description: The launch settings that changed.
      type: list
      elements: str
    before:
      description: The launch settings before.
      type: dict
    after:
      description: The launch settings after (predicted in check mode).
      type: dict
    error:
      description: Why the change failed for this server; null when it did not.
      type: str
unmatched_servers:
  description: Servers left unconfigured, with the reason.
  returned: always
  type: list
  elements: dict
  sample:
    - source_server_id: s-1234567890abcdef0
      hostname: acme-prod-app01
      reason: no target is named 'acme-prod-app01'

unmatched_targets:
  description: In-scope targets no server was matched to (C(instance_id), C(name), C(account_id), C(region)).
  returned: always
  type: list
  elements: dict
duplicate_targets:
  description: Names carried by more than one target (C(name), C(instance_ids), C(account_id), C(region)).
  returned: always
  type: list
  elements: dict
duplicate_servers:
  description: Hostnames shared by more than one server (C(hostname), C(source_server_ids)).
  returned: always
  type: list
  elements: dict
problems:
  description: Every reason a server was not configured, one sentence each, naming the server, the target and the fix.
  returned: always
  type: list
  elements: str
diff:
  description: Launch settings per source server ID before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET_VALUE
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import DRSError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import discover_launch_targets
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import launch_settings_summary
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import target_summary
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import LAUNCH_INTO_PREREQUISITES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import SERVERS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import apply_launch_plans
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import check_servers_scope
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import error_text
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import group_entries
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import plan_launch_settings
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import predict_settings
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import read_launch_configurations
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import resolve_servers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import result_row
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import server_label
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import describe_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.matching import match_servers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import scope_violation

TARGET_FIELDS = ("instance_id", "name", "private_ip", "subnet_id", "security_group_ids", "state")


def target_out_of_scope(target, customer, environment):
    """A violation when the target's own Customer/Environment tags name another scope (a missing tag does not)."""
    tags = target.get("tags") or {}
    effective = {TAG_CUSTOMER: tags.get(TAG_CUSTOMER, customer),
                 TAG_ENVIRONMENT: tags.get(TAG_ENVIRONMENT, environment)}
    return scope_violation(f"target {target['instance_id']} ({target.get('name')})", effective, customer, environment)


def _server_os(server):
    full = (((server.get("sourceProperties") or {}).get("os") or {}).get("fullString") or "").lower()
    if not full:
        return None
    return "windows" if "windows" in full else "linux"


def prerequisite_problems(entry, target, region, subnets):
    """Why ``target`` cannot receive ``entry``'s recovery, each with the fix; [] when it can."""
    where = f"{server_label(entry)} -> target {target['instance_id']} ({target.get('name')})"
    iid = target["instance_id"]
    problems = []
    if not target.get("tagged"):
        problems.append(f"{where}: the target is not tagged {TAG_DRS_TARGET}={TAG_DRS_TARGET_VALUE}; tag it (aws ec2 "
                        f"create-tags --resources {iid} --tags Key={TAG_DRS_TARGET},Value={TAG_DRS_TARGET_VALUE})")
    if target.get("state") != "stopped":
        problems.append(f"{where}: the target is {target.get('state')}, DRS only launches into a stopped instance; "
                        f"stop it (aws ec2 stop-instances --region {region} --instance-ids {iid})")
    zone = target.get("availability_zone") or ""
    if zone and not zone.startswith(region):
        problems.append(f"{where}: the target is in {zone}, not in the recovery region {region}; use a target there")
    if not target.get("subnet_id"):
        problems.append(f"{where}: the target has no subnet; re-create it in the recovery VPC")
    elif target["subnet_id"] not in subnets:
        problems.append(f"{where}: the target's subnet {target['subnet_id']} does not exist; re-create the recovery "
                        "network or the target")
    server = entry.get("server") or {}
    source_arch = (server.get("sourceProperties") or {}).get("architecture")
    if source_arch and target.get("architecture") and source_arch != target["architecture"]:
        problems.append(f"{where}: architecture {target['architecture']} does not match the source's {source_arch}; "
                        "provision a target of the same architecture")
    source_os = _server_os(server)
    target_os = "windows" if "windows" in (target.get("platform") or "").lower() else "linux"
    if source_os and target.get("platform") and source_os != target_os:
        problems.append(f"{where}: platform {target_os} does not match the source's {source_os}; provision a "
                        f"{source_os} target")
    elif source_os == "linux" and (target.get("boot_mode") or "").startswith("uefi"):
        problems.append(f"{where}: Linux targets must boot in legacy BIOS mode, this one is {target['boot_mode']}; "
                        "provision it with boot mode legacy-bios")
    return problems


def _existing_subnets(ec2, subnet_ids):
    if not subnet_ids:
        return set()
    found = ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": sorted(subnet_ids)}])
    return {s["SubnetId"] for s in found.get("Subnets", [])}


def pinned_only(entries, params):
    """Whether only the pinned targets matter: every server has one, and unmatched targets are neither reported
    nor refused."""
    return (bool(entries) and all(e.get("target_instance_id") for e in entries)
            and not params["warn_on_unmatched_targets"] and not params["fail_on_unmatched_targets"])


def plan_group(factory, group_key, entries, params):
    """Targets, matches and prerequisite checks of one account and region."""
    account_id, region = group_key
    customer, environment = params["customer"], params.get("environment")
    ec2 = factory.client("ec2", account_id=account_id, region=region)
    pinned_ids = {e["target_instance_id"] for e in entries if e.get("target_instance_id")}
    if pinned_only(entries, params):
        # Pinned servers match their own targets only, and nobody asked about the other targets: read just these
        # (a wave of a large estate no longer reads every target of the account and region).
        targets = [target_summary(i) for i in describe_instances(ec2, pinned_ids).values()]
    else:
        targets = discover_launch_targets(ec2)
        known = {t["instance_id"] for t in targets}
        if pinned_ids - known:
            targets.extend(target_summary(i) for i in describe_instances(ec2, pinned_ids - known).values())
    violations = []
    candidates = []
    for target in targets:
        violation = target_out_of_scope(target, customer, environment)
        if violation and target["instance_id"] in pinned_ids:
            violations.append(violation)
        elif not violation:
            candidates.append(target)
    if violations:
        raise ScopeError(violations)
    result = match_servers(entries, candidates, fuzzy_threshold=params.get("fuzzy_threshold"))
    subnets = _existing_subnets(ec2, {m["target"]["subnet_id"] for m in result["matches"]
                                      if m["target"].get("subnet_id")})
    for match in result["matches"]:
        entry = match["server"]
        entry["match"] = match
        entry["problems"] = prerequisite_problems(entry, match["target"], region, subnets)
    result["account_id"], result["region"] = account_id, region
    return result


def target_row(target, account_id=None, region=None):
    row = {k: target.get(k) for k in TARGET_FIELDS}
    if account_id is not None:
        row.update(account_id=account_id, region=region)
    return row


def run_present(module, factory, entries, groups):
    params = module.params
    results = run_concurrently(lambda key: plan_group(factory, key, groups[key], params), groups)
    report = {"unmatched_servers": [], "unmatched_targets": [], "duplicate_targets": [], "duplicate_servers": [],
              "problems": []}
    for key, result in results.items():
        account_id, region = key
        report["problems"].extend(result["problems"])
        report["unmatched_servers"].extend(
            {"source_server_id": u["server"]["source_server_id"], "hostname": u["server"].get("hostname"),
             "account_id": account_id, "region": region, "reason": u["reason"]} for u in result["unmatched_servers"])
        report["unmatched_targets"].extend(target_row(t, account_id, region) for t in result["unmatched_targets"])
        report["duplicate_targets"].extend(dict(d, account_id=account_id, region=region)
                                           for d in result["duplicate_targets"])
        report["duplicate_servers"].extend(dict(d, account_id=account_id, region=region)
                                           for d in result["duplicate_servers"])
    matched = [e for e in entries if e.get("match")]
    read_launch_configurations(factory, group_entries(matched))
    for entry in matched:
        entry["before"] = launch_settings_summary(entry["config"])
        desired = dict(LAUNCH_INTO_PREREQUISITES, launch_into_instance_id=entry["match"]["target"]["instance_id"])
        entry["steps"] = plan_launch_settings(entry["before"], desired)
        entry["after"] = predict_settings(entry["before"], entry["steps"])
        if not entry["steps"] and entry["match"]["target"].get("state") != "stopped":
            # Already pointing at its target, which runs: it has been launched into; nothing to change.
            entry["problems"] = [p for p in entry["problems"] if "DRS only launches into a stopped" not in p]
            module.warn(f"{server_label(entry)}: launch-into target {entry['match']['target']['instance_id']} is "
                        f"{entry['match']['target'].get('state')} (already recovered into?)")
        report["problems"].extend(entry["problems"])
    if params["fail_on_unmatched_targets"]:
        report["problems"].extend(
            f"target {t['instance_id']} ({t.get('name')}) in {t['account_id']}/{t['region']} matches no server; "
            "add its server to this run or remove its AWSDRS tag" for t in report["unmatched_targets"])
    elif report["unmatched_targets"] and params["warn_on_unmatched_targets"]:
        names = ", ".join(f"{t['instance_id']} ({t.get('name')})" for t in report["unmatched_targets"][:20])
        module.warn(f"{len(report['unmatched_targets'])} launch-into target(s) match no server of this run: {names}")
    clean = [e for e in matched if not e["problems"]]
    report["unmatched_servers"].extend(
        {"source_server_id": e["source_server_id"], "hostname": e.get("hostname"), "account_id": e["account_id"],
         "region": e["region"], "reason": "; ".join(e["problems"])} for e in matched if e["problems"])
    if report["problems"] and not params["allow_partial"]:
        return [], report, "fail"
    apply_launch_plans(factory, group_entries(clean), module.check_mode)
    return clean, report, "ok"


def plan_row(entry):
    row = result_row(entry)
    match = entry.get("match")
    row.update(
        method=match["method"] if match else None,
        score=match["score"] if match else None,
        target=target_row(match["target"]) if match else None,
    )
    return row


def main():
    argument_spec = dict(
        SERVERS_ARGUMENT_SPEC,
        state=dict(type="str", choices=["present", "absent"], default="present"),
        fuzzy_threshold=dict(type="float"),
        allow_partial=dict(type="bool", default=False),
        fail_on_unmatched_targets=dict(type="bool", default=False),
        warn_on_unmatched_targets=dict(type="bool", default=True),
    )
    argument_spec.update(ACCOUNTS_ARGUMENT_SPEC)
    argument_spec.update(SCOPE_ARGUMENT_SPEC)
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    threshold = module.params.get("fuzzy_threshold")
    if threshold is not None and not 0 <= threshold <= 1:
        module.fail_json(msg=f"fuzzy_threshold must be between 0 and 1, got {threshold}")
    factory = ClientFactory(module, accounts=module.params["accounts"])
    report = {"unmatched_servers": [], "unmatched_targets": [], "duplicate_targets": [], "duplicate_servers": [],
              "problems": []}
    try:
        entries = resolve_servers(factory, module.params["servers"], factory.default_region)
        check_servers_scope(entries, module.params["customer"], module.params.get("environment"))
        groups = group_entries(entries)
        if module.params["state"] == "absent":
            read_launch_configurations(factory, groups)
            for entry in entries:
                entry["before"] = launch_settings_summary(entry["config"])
                entry["steps"] = plan_launch_settings(entry["before"], {"launch_into_instance_id": ""})
                entry["after"] = predict_settings(entry["before"], entry["steps"])
            apply_launch_plans(factory, groups, module.check_mode)
            configured, outcome = entries, "ok"
        else:
            configured, report, outcome = run_present(module, factory, entries, groups)
    except ScopeError as e:
        module.fail_json(msg=str(e), out_of_scope=[v["resource"] for v in e.violations])
    except DRSError as e:
        module.fail_json(msg=str(e))
    except AccountAccessError as e:
        module.fail_json(msg=f"Could not reach account {e.account_id}: {e.reason}. Fix: check its role_arn, "
                             "external_id or profile in accounts")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not read DRS source servers or launch-into targets ({error_text(e)})")

    rows = [plan_row(e) for e in configured]
    result = dict(report, changed=any(r["changed"] for r in rows), plan=rows)
    if outcome == "fail":
        # Nothing was changed: show what would have been configured.
        result["plan"] = [plan_row(e) for e in entries if e.get("match") and not e.get("problems")]
        for row in result["plan"]:
            row["changed"] = False
        module.fail_json(msg=f"Launch-into was not configured for any server; {len(report['problems'])} problem(s): "
                             + " | ".join(report["problems"]), **result)
    if module._diff:
        result["diff"] = {"before": {e["source_server_id"]: e["before"] for e in configured},
                          "after": {e["source_server_id"]: e["after"] for e in configured}}
    errors = [e["error"] for e in configured if e.get("error")]
    if errors:
        module.fail_json(msg=f"Launch-into could not be configured for {len(errors)} server(s): {'; '.join(errors)}",
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
