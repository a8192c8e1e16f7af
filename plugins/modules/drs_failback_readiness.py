#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_failback_readiness
short_description: Check the prerequisites of DRS reverse replication and failback per server, changing nothing
version_added: 0.1.0
description:
  - "Read-only, a dry run of a failback: for each failed-over server it reports every prerequisite as passed or
    failed, with the fix for each failure. C(critical) failures block reverse replication or failback;
    C(warning) ones are reported only."
  - "Checks: C(failover_record) (the failover's record names the staging account and the original instance);
    C(recovery_instance_running) (the DR recovery instance exists and runs); C(private_ip) (it has the private
    IP the failover recorded); C(security_groups) (its security groups allow outbound TCP 1500 and 443);
    C(instance_profile) (its IAM instance profile's role has C(AWSElasticDisasterRecoveryRecoveryInstancePolicy)
    or a policy granting the same agent actions); C(drs_initialized) (DRS answers in the original region, in the
    staging account); C(original_instance) (present, stopped and tagged C(dr:failback-target=true));
    with O(stage=failback) also C(failback_replication) (the C(FAILBACK) source server is C(CONTINUOUS) with lag
    under O(lag_threshold_seconds)); and C(staging_account) (the C(FAILBACK) server stages in the failover's
    staging account) once that server exists."
  - The instance profile check is a warning by default (O(instance_profile_severity)) because pre-provisioned
    launch-into targets keep their own profile, and reading IAM needs C(iam:GetInstanceProfile),
    C(iam:ListAttachedRolePolicies) and C(iam:GetRolePolicy) in the workload account, which least-privilege
    roles may not grant. DRS refuses reverse replication by itself when the agent cannot reach it.
  - Reads are grouped by account and region (one client per group, groups concurrently).
options:
  servers:
    description: The forward source servers (the inventory's DRS hosts through the C(dr_drs_servers) filter).
    type: list
    elements: dict
    required: true
    suboptions:
      source_server_id:
        description: The forward DRS source server ID.
        type: str
        required: true
      account_id:
        description: The DRS recovery account.
        type: str
      region:
        description: The DR region.
        type: str
      hostname:
        description: The hostname, for messages.
        type: str
      priority:
        description: Not used.
        type: str
      source_instance_id:
        description: The original instance, when the record does not name it.
        type: str
      source_region:
        description: The original region, when the record does not name it.
        type: str
      target_instance_id:
        description: The DR instance, when the record does not name it.
        type: str
      expected_private_ip:
        description: The DR instance's private IP, when the record does not name it.
        type: str
      staging_account_id:
        description: The staging account, overriding the record's.
        type: str
  failover_resources:
    description: The resource entries of the failover's execution record.
    type: list
    elements: dict
    default: []
  stage:
    description:
      - C(reverse_replication) checks what ReverseReplication needs (after the failover's CLEANUP).
      - C(failback) also requires the FAILBACK source servers to be ready for the launch back.
    type: str
    choices: [reverse_replication, failback]
    default: failback
  lag_threshold_seconds:
    description: The FAILBACK source server must have a replication lag under this many seconds.
    type: int
    default: 60
  instance_profile_severity:
    description:
      - C(critical) blocks on the instance profile check, C(warning) only reports it, C(skip) leaves it out.
    type: str
    choices: [critical, warning, skip]
    default: warning
  require_original_instance:
    description: Check the original instances (false when the failover terminated them, round_trip_failback=false).
    type: bool
    default: true
  fail_on_blocking:
    description: Fail the task, naming each server, check and fix, when a critical check fails.
    type: bool
    default: false
extends_documentation_fragment:
  - enterprise_dr.orchestration.accounts
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Is acme ready to fail back?
  enterprise_dr.orchestration.drs_failback_readiness:
    servers: "{{ groups['customer_acme'] | map('extract', hostvars) | enterprise_dr.orchestration.dr_drs_servers }}"
    failover_resources: "{{ failover.execution.resources }}"
    stage: failback
    accounts: "{{ dr_accounts }}"
  register: readiness

- name: Block on critical failures
  ansible.builtin.assert:
    that: readiness.passed
    fail_msg: "{{ readiness.failures | join(' | ') }}"
"""

RETURN = r"""
passed:
  description: Whether no critical check failed on any server.
  returned: always
  type: bool
failures:
  description: One line per failed critical check, naming the server, what is wrong and the fix.
  returned: always
  type: list
  elements: str
warnings_found:
  description: One line per failed warning-level check.
  returned: always
  type: list
  elements: str
servers:
  description: One entry per server.
  returned: always
  type: list
  elements: dict
  contains:
    source_server_id: {description: The forward source server., type: str}
    hostname: {description: The hostname., type: str}
    passed: {description: No critical check failed., type: bool}
    blocking: {description: Names of the failed critical checks., type: list, elements: str}
    warnings: {description: Names of the failed warning-level checks., type: list, elements: str}
    checks:
      description: Per check - passed, severity, detail and (when failed) fix.
      type: dict
    recovery_instance_id: {description: The DR recovery instance., type: str}
    failback_source_server_id: {description: "\"The FAILBACK source server, when it exists.\"", type: str}
    failback_replication_state: {description: Its replication state., type: str}
    original_instance_id: {description: The original instance., type: str}
    original_region: {description: The original region., type: str}
    original_account_id: {description: The original instance's account., type: str}
    original_private_ip: {description: The original private IP the failover's CLEANUP recorded., type: str}
    original_state: {description: The original instance's EC2 state (when O(require_original_instance))., type: str}
    resource: {description: The forward source server's ARN (the execution record's resource key)., type: str}
    staging_account_id: {description: The failover's staging account., type: str}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import FAILBACK_SERVERS_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import FailbackView
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import assess
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import build_pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import describe_failures
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import error_message
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import read_instance_profile
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_failback import replication_state
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import describe_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule


def read_ec2(factory, groups, with_groups=True):
    """{(account, region): ({instance_id: instance}, {group_id: group})} for ``groups`` = {key: [instance IDs]}."""

    def read(key):
        ec2 = factory.client("ec2", account_id=key[0], region=key[1])
        instances = describe_instances(ec2, groups[key])
        group_ids = sorted({g["GroupId"] for i in instances.values() for g in i.get("SecurityGroups") or []})
        found = {}
        if with_groups and group_ids:
            for group in ec2.describe_security_groups(GroupIds=group_ids).get("SecurityGroups") or []:
                found[group["GroupId"]] = group
        return instances, found

    return run_concurrently(read, [k for k in groups if groups[k]])


def main():
    argument_spec = dict(
        **FAILBACK_SERVERS_SPEC,
        stage=dict(type="str", choices=["reverse_replication", "failback"], default="failback"),
        lag_threshold_seconds=dict(type="int", default=60),
        instance_profile_severity=dict(type="str", choices=["critical", "warning", "skip"], default="warning"),
        require_original_instance=dict(type="bool", default=True),
        fail_on_blocking=dict(type="bool", default=False),
        **ACCOUNTS_ARGUMENT_SPEC,
    )
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    rows = []
    try:
        factory = ClientFactory(module, params["accounts"])
        pairs = build_pairs(params, factory.default_region)
        view = FailbackView(factory, run_concurrently)
        view.load(pairs)

        dr_groups, origin_groups = {}, {}
        for pair in pairs:
            dr_groups.setdefault((pair.get("account_id"), pair.get("region")), []).append(pair.get("dr_instance_id"))
            cloud = (pair.get("forward") or {}).get("sourceCloudProperties") or {}
            pair["original_account_id"] = cloud.get("originAccountID") or pair.get("account_id")
            if pair.get("original_instance_id"):
                origin_groups.setdefault((pair["original_account_id"], pair.get("original_region")), []).append(
                    pair["original_instance_id"])
        dr_ec2 = read_ec2(factory, dr_groups)
        origin_ec2 = read_ec2(factory, origin_groups, with_groups=False) if params["require_original_instance"] else {}

        profiles = {}

        def read_profile(key):
            account_id, arn = key
            try:
                return read_instance_profile(factory.client("iam", account_id=account_id), arn)
            except botocore.exceptions.ClientError as e:
                return {"arn": arn, "error": error_message(e)}

        wanted = set()
        for pair in pairs:
            instances = dr_ec2.get((pair.get("account_id"), pair.get("region")), ({}, {}))[0]
            instance = instances.get(pair.get("dr_instance_id"))
            arn = ((instance or {}).get("IamInstanceProfile") or {}).get("Arn")
            if arn and params["instance_profile_severity"] != "skip":
                wanted.add((pair.get("account_id"), arn))
        if wanted:
            profiles = run_concurrently(read_profile, sorted(wanted))

        for pair in pairs:
            instances, groups = dr_ec2.get((pair.get("account_id"), pair.get("region")), ({}, {}))
            instance = instances.get(pair.get("dr_instance_id"))
            arn = ((instance or {}).get("IamInstanceProfile") or {}).get("Arn")
            original = None
            if params["require_original_instance"]:
                original = origin_ec2.get((pair["original_account_id"], pair.get("original_region")), ({}, {}))[0].get(
                    pair.get("original_instance_id"))
            facts = {
                "recovery_instance": pair.get("dr_recovery_instance"),
                "instance": instance,
                "security_groups": [groups[g["GroupId"]] for g in (instance or {}).get("SecurityGroups") or []
                                    if g["GroupId"] in groups],
                "profile": profiles.get((pair.get("account_id"), arn)) if arn else None,
                "origin_initialized": pair.get("origin_initialized"),
                "original_instance": original,
                "reversed": pair.get("failback_server"),
            }
            severity = params["instance_profile_severity"]
            verdict = assess(pair, facts, stage=params["stage"], lag_threshold=params["lag_threshold_seconds"],
                             profile_severity="warning" if severity == "skip" else severity,
                             require_original_instance=params["require_original_instance"])
            if severity == "skip":
                verdict["checks"].pop("instance_profile", None)
                verdict["warnings"] = [w for w in verdict["warnings"] if w != "instance_profile"]
            failback = pair.get("failback_server") or {}
            rows.append(dict(
                verdict,
                source_server_id=pair["source_server_id"],
                hostname=pair.get("hostname"),
                recovery_instance_id=(pair.get("dr_recovery_instance") or {}).get("recoveryInstanceID"),
                dr_instance_id=pair.get("dr_instance_id"),
                failback_source_server_id=failback.get("sourceServerID"),
                failback_replication_state=replication_state(failback) if failback else None,
                original_instance_id=pair.get("original_instance_id"),
                original_region=pair.get("original_region"),
                original_account_id=pair.get("original_account_id"),
                original_private_ip=pair.get("original_private_ip"),
                original_state=((original or {}).get("State") or {}).get("Name"),
                resource=pair.get("resource") or (pair.get("forward") or {}).get("arn"),
                account_id=pair.get("account_id"),
                region=pair.get("region"),
                staging_account_id=pair.get("staging_account_id"),
            ))
    except AccountAccessError as e:
        module.fail_json(msg=f"Cannot reach {e}: check the account's role, external ID or profile")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the failback prerequisites")

    failures = describe_failures(rows)
    warnings_found = [f"{r.get('hostname') or r['source_server_id']} [{name}]: {r['checks'][name]['detail']}. "
                      f"Fix: {r['checks'][name]['fix']}" for r in rows for name in r["warnings"]]
    result = {"changed": False, "passed": not failures, "failures": failures, "warnings_found": warnings_found,
              "servers": rows}
    if failures and params["fail_on_blocking"]:
        blocked = len([r for r in rows if not r["passed"]])
        module.fail_json(msg=f"{blocked} server(s) are not ready to fail back, nothing was changed: "
                             + " | ".join(failures), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
