#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_recovery_instance
short_description: Remove DRS recovery instances after a drill, never terminating a pre-provisioned target
version_added: 0.1.0
description:
  - Drill cleanup (O(state=absent)) of the recovery instances of the given source servers or IDs,
    across accounts and regions (one client per account and region, groups concurrently).
  - A recovery instance DRS created (a new-instance launch) is terminated through DRS
    (TerminateRecoveryInstances, a C(TERMINATE) job, waited for).
  - A recovery that launched into a pre-provisioned target - the EC2 instance carries
    C(AWSDRS=AllowLaunchingIntoThisInstance), or it is the server's C(launchIntoEC2InstanceID) - never
    terminates the target. The target is stopped (and waited for), keeps its tags, the volumes the
    launch left behind are deleted, and the DRS record is disconnected and deleted
    (DisconnectRecoveryInstance, then DeleteRecoveryInstance).
  - Left-behind volumes are detached (C(available)) volumes that were the target's own before the
    launch (tagged C(enterprise-dr:launch-into-original-of=<instance ID>) by
    M(enterprise_dr.orchestration.drs_recover) before it launched), or DRS-recovered volumes of the
    same source server left by an earlier launch (tag C(AWSElasticDisasterRecoverySourceServerID)).
    An attached volume is never deleted.
  - Non-drill (production) recovery instances are refused unless O(allow_production=true).
  - Before any change, the source servers' own DRS tags are checked against O(customer) and O(environment).
  - Idempotent - servers without recovery instances are left alone. Check mode and C(--diff) show what would be done.
options:
  state:
    description: C(absent) removes the recovery instances.
    type: str
    choices: [absent]
    default: absent
  servers:
    description:
      - The source servers whose recovery instances to remove. Mutually exclusive with O(recovery_instances).
    type: list
    elements: dict
    suboptions:
      source_server_id:
        description: The DRS source server ID (C(s-...)).
        type: str
        required: true
      account_id:
        description: The DRS recovery account. Defaults to the module's own credentials.
        type: str
      region:
        description: The DRS recovery region. Defaults to the module's region.
        type: str
      hostname:
        description: The server's hostname, for the report.
        type: str
      priority:
        description: Not used; accepted so a wave's server list can be passed as it is.
        type: str
        choices: [critical, high, medium, low]
      target_instance_id:
        description: The server's launch-into target, if known (it is then never terminated).
        type: str
  recovery_instances:
    description: The recovery instances to remove, by ID.
    type: list
    elements: dict
    suboptions:
      recovery_instance_id:
        description: The recovery instance ID (the EC2 instance ID).
        type: str
        required: true
      account_id:
        description: Its account. Defaults to the module's own credentials.
        type: str
      region:
        description: Its region. Defaults to the module's region.
        type: str
  allow_production:
    description:
      - Also remove non-drill recovery instances (the instances a real recovery launched). Off by default;
        removing them during an outage takes production down.
    type: bool
    default: false
  delete_left_behind_volumes:
    description: Delete the detached volumes a launch into a pre-provisioned target left behind.
    type: bool
    default: true
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
- name: Clean up after the drill of wave 1
  enterprise_dr.orchestration.drs_recovery_instance:
    state: absent
    region: us-west-2
    customer: acme
    env: production
    servers: "{{ wave_servers }}"
    accounts:
      - account_id: "210987654321"
        role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-a
    poll_interval: 15

- name: Remove one drill instance by ID
  enterprise_dr.orchestration.drs_recovery_instance:
    state: absent
    region: us-west-2
    customer: acme
    recovery_instances:
      - recovery_instance_id: i-0123456789abcdef0
        account_id: "210987654321"
"""

RETURN = r"""
recovery_instances:
  description: One entry per recovery instance found, with what was (or, in check mode, would be) done.
  returned: always
  type: list
  elements: dict
  contains:
    recovery_instance_id:
      description: The recovery instance ID.
      type: str
    source_server_id:
      description: Its source server.
      type: str
    account_id:
      description: The account.
      type: str
    region:
      description: The region.
      type: str
    is_drill:
      description: Whether a drill launched it.
      type: bool
    ec2_instance_id:
      description: The EC2 instance.
      type: str
    launch_into_target:
      description: Whether the EC2 instance is a pre-provisioned target (stopped and kept, never terminated).
      type: bool
    action:
      description:
        - C(terminate) - DRS TerminateRecoveryInstances.
        - C(stop_and_release) - stop the target, delete left-behind volumes, disconnect and delete the DRS record.
      type: str
    ec2_state:
      description: The EC2 state after the cleanup (C(terminated), C(stopped)); in check mode the state found.
      type: str
    job_id:
      description: The TERMINATE job, for terminated instances.
      type: str
    deleted_volume_ids:
      description: Left-behind volumes deleted (in check mode, to delete).
      type: list
      elements: str
not_found:
  description: Requested servers without a recovery instance, and recovery instance IDs DRS does not know.
  returned: always
  type: list
  elements: str
summary:
  description: Counts.
  returned: always
  type: dict
  contains:
    terminated:
      description: Recovery instances terminated.
      type: int
    targets_stopped:
      description: Launch-into targets stopped and released.
      type: int
    volumes_deleted:
      description: Left-behind volumes deleted.
      type: int
"""

import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import ACCOUNTS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.args_common import WAIT_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import group_by_account_region
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import ClientFactory
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import POLICY as RETRY_POLICY
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import THROTTLING_CODES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import DRSError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_jobs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_recovery_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_source_servers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import error_code
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import is_launch_into_target
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import iso_now
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import left_behind_volumes
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import read_launch_configuration
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import wait_for_instance_state
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import wait_for_jobs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import describe_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope

TERMINATE_BATCH = 100


class GroupFailure(Exception):
    def __init__(self, key, error):
        super().__init__(str(error))
        self.key = key
        self.error = error


class CleanupGroup:
    """The recovery instances to remove in one account and region."""

    def __init__(self, factory, key, server_entries, instance_ids, params):
        self.factory = factory
        self.account_id, self.region = key
        self.key = key
        self.server_entries = server_entries
        self.instance_ids = instance_ids
        self.params = params
        self.drs = factory.client("drs", account_id=self.account_id, region=self.region)
        self.ec2 = factory.client("ec2", account_id=self.account_id, region=self.region)
        self.items = []
        self.not_found = []
        self.source_servers = {}

    def prepare(self):
        server_ids = [e["source_server_id"] for e in self.server_entries]
        found = []
        if server_ids:
            found.extend(describe_recovery_instances(self.drs, source_server_ids=server_ids))
            have = {ri.get("sourceServerID") for ri in found}
            self.not_found.extend(sid for sid in server_ids if sid not in have)
        if self.instance_ids:
            by_id = describe_recovery_instances(self.drs, recovery_instance_ids=self.instance_ids)
            have = {ri.get("recoveryInstanceID") for ri in by_id}
            self.not_found.extend(i for i in self.instance_ids if i not in have)
            found.extend(ri for ri in by_id if ri not in found)
        wanted_sources = sorted({ri.get("sourceServerID") for ri in found if ri.get("sourceServerID")})
        if wanted_sources:
            self.source_servers = {s["sourceServerID"]: s for s in
                                   describe_source_servers(self.drs, source_server_ids=wanted_sources)}
        ec2_info = describe_instances(self.ec2, [ri.get("ec2InstanceID") for ri in found])
        targets = {e["source_server_id"]: e.get("target_instance_id") for e in self.server_entries}
        for ri in found:
            sid = ri.get("sourceServerID")
            ec2_id = ri.get("ec2InstanceID")
            instance = ec2_info.get(ec2_id)
            launch_into = targets.get(sid)
            into = is_launch_into_target(instance, launch_into)
            if not into and instance is not None:
                config = read_launch_configuration(self.drs, sid)
                configured = (config.get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID")
                into = is_launch_into_target(instance, configured)
            state = (instance or {}).get("State", {}).get("Name")
            item = {
                "recovery_instance_id": ri.get("recoveryInstanceID"),
                "source_server_id": sid,
                "account_id": self.account_id or (ri.get("arn") or "::::").split(":")[4] or None,
                "region": self.region,
                "is_drill": bool(ri.get("isDrill")),
                "ec2_instance_id": ec2_id,
                "launch_into_target": into,
                "action": "stop_and_release" if into else "terminate",
                "ec2_state": state,
                "job_id": None,
                "deleted_volume_ids": [],
            }
            if into and self.params["delete_left_behind_volumes"]:
                item["deleted_volume_ids"] = left_behind_volumes(self.ec2, ec2_id, sid)
            self.items.append(item)

    def scope_items(self):
        for item in self.items:
            server = self.source_servers.get(item["source_server_id"]) or {}
            yield server.get("arn") or item["source_server_id"], server.get("tags") or {}

    def production_items(self):
        return [i for i in self.items if not i["is_drill"]]

    def execute(self, deadline):
        params = self.params
        terminate = [i for i in self.items if i["action"] == "terminate"]
        release = [i for i in self.items if i["action"] == "stop_and_release"]
        jobs = []
        if terminate:
            for start in range(0, len(terminate), TERMINATE_BATCH):
                batch = terminate[start:start + TERMINATE_BATCH]
                job = self._terminate([i["recovery_instance_id"] for i in batch])
                for item in batch:
                    item["job_id"] = job["jobID"]
                jobs.append(job["jobID"])
        if release:
            to_stop = [i["ec2_instance_id"] for i in release if i["ec2_state"] not in ("stopped", "stopping")]
            if to_stop:
                self.ec2.stop_instances(InstanceIds=to_stop)
            still = wait_for_instance_state(self.ec2, [i["ec2_instance_id"] for i in release], "stopped",
                                            params["poll_interval"], deadline)
            if still:
                raise DRSError(f"launch-into targets did not stop in time: {', '.join(still)}",
                               resource=", ".join(still), remediation="check them in EC2 and re-run")
            for item in release:
                item["ec2_state"] = "stopped"
                for volume_id in item["deleted_volume_ids"]:
                    try:
                        self.ec2.delete_volume(VolumeId=volume_id)
                    except ClientError as e:
                        if error_code(e) != "InvalidVolume.NotFound":
                            raise
                self.drs.disconnect_recovery_instance(recoveryInstanceID=item["recovery_instance_id"])
                self.drs.delete_recovery_instance(recoveryInstanceID=item["recovery_instance_id"])
        if jobs:
            finished_jobs, done = wait_for_jobs(self.drs, jobs, params["poll_interval"], deadline)
            if not done:
                raise DRSError(f"TERMINATE jobs did not finish in time: {', '.join(jobs)}",
                               resource=", ".join(jobs), remediation="raise wait_timeout and re-run")
            for item in terminate:
                job = finished_jobs.get(item["job_id"]) or {}
                status = {p.get("recoveryInstanceID") or p.get("sourceServerID"): p.get("launchStatus")
                          for p in job.get("participatingServers") or []}
                if status.get(item["recovery_instance_id"], status.get(item["source_server_id"])) != "TERMINATED":
                    raise DRSError(f"DRS did not terminate recovery instance {item['recovery_instance_id']} "
                                   f"(job {item['job_id']})", resource=item["recovery_instance_id"],
                                   remediation="read the job log with drs_job_info and re-run")
                item["ec2_state"] = "terminated"

    def _terminate(self, ids):
        """TerminateRecoveryInstances, never resent blindly: after a 5xx or a timeout, look for the job first.

        The client's retry policy resends it only after throttling (nothing was started)."""
        since = time.time() - 60
        for attempt in range(1, 9):
            try:
                return self.drs.terminate_recovery_instances(recoveryInstanceIDs=ids)["job"]
            except ClientError as e:
                code = error_code(e)
                if code in THROTTLING_CODES or code not in ("InternalServerException", "ServiceUnavailable"):
                    raise
            except BotoCoreError:
                pass
            job = self._find_terminate_job(ids, since)
            if job is not None:
                return job
            RETRY_POLICY.sleep(attempt)
        raise DRSError(f"TerminateRecoveryInstances kept failing for {', '.join(ids)}", resource=", ".join(ids),
                       remediation="re-run later")

    def _find_terminate_job(self, ids, since):
        for job in describe_jobs(self.drs, from_date=iso_now(lambda: since)):
            held = {p.get("recoveryInstanceID") for p in job.get("participatingServers") or []}
            if job.get("type") == "TERMINATE" and set(ids) <= held:
                return job
        return None


def where(key):
    account_id, region = key
    return f"account {account_id or '(module credentials)'}, region {region}"


def fail_on(module, error, doing, **result):
    key = getattr(error, "key", None)
    cause = getattr(error, "error", error)
    place = f" in {where(key)}" if key else ""
    if isinstance(cause, AccountAccessError):
        module.fail_json(msg=f"Could not reach{place}: {cause.reason}. Fix: check the account's role_arn, "
                             "external_id or profile in accounts", **result)
    if isinstance(cause, DRSError):
        module.fail_json(msg=f"{doing}{place}: {cause}", **result)
    module.fail_json_aws(cause, msg=f"{doing}{place}", **result)


def main():
    server_options = dict(
        source_server_id=dict(type="str", required=True),
        account_id=dict(type="str"),
        region=dict(type="str"),
        hostname=dict(type="str"),
        priority=dict(type="str", choices=["critical", "high", "medium", "low"]),
        target_instance_id=dict(type="str"),
    )
    argument_spec = dict(
        state=dict(type="str", choices=["absent"], default="absent"),
        servers=dict(type="list", elements="dict", options=server_options),
        recovery_instances=dict(type="list", elements="dict", options=dict(
            recovery_instance_id=dict(type="str", required=True),
            account_id=dict(type="str"),
            region=dict(type="str"),
        )),
        allow_production=dict(type="bool", default=False),
        delete_left_behind_volumes=dict(type="bool", default=True),
    )
    argument_spec.update(SCOPE_ARGUMENT_SPEC)
    argument_spec.update(ACCOUNTS_ARGUMENT_SPEC)
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True,
                      mutually_exclusive=[["servers", "recovery_instances"]],
                      required_one_of=[["servers", "recovery_instances"]])
    params = module.params
    factory = ClientFactory(module, accounts=params["accounts"])
    default_region = factory.default_region
    servers = [dict(s, region=s.get("region") or default_region) for s in params.get("servers") or []]
    by_id = [dict(r, region=r.get("region") or default_region) for r in params.get("recovery_instances") or []]
    if any(not e["region"] for e in servers + by_id):
        module.fail_json(msg="No region given: set region (or AWS_REGION) or each entry's region")
    server_groups = group_by_account_region(servers)
    id_groups = group_by_account_region(by_id)
    keys = list(dict.fromkeys(list(server_groups) + list(id_groups)))
    groups = {}

    def prepare(key):
        try:
            group = CleanupGroup(factory, key, server_groups.get(key, []),
                                 [r["recovery_instance_id"] for r in id_groups.get(key, [])], params)
            group.prepare()
        except (AccountAccessError, DRSError, ClientError, BotoCoreError) as e:
            raise GroupFailure(key, e) from e
        groups[key] = group

    try:
        run_concurrently(prepare, keys)
    except GroupFailure as e:
        fail_on(module, e, "Could not read DRS recovery instances")

    items = [item for key in keys for item in groups[key].items]
    not_found = [x for key in keys for x in groups[key].not_found]
    try:
        check_scope([i for key in keys for i in groups[key].scope_items()],
                    params["customer"], params.get("environment"))
    except ScopeError as e:
        module.fail_json(msg=str(e), violations=e.violations)
    production = [i for key in keys for i in groups[key].production_items()]
    if production and not params["allow_production"]:
        names = ", ".join(f"{i['recovery_instance_id']} (source server {i['source_server_id']})" for i in production)
        module.fail_json(msg=f"Refusing to remove non-drill (production) recovery instances: {names}. Fix: remove "
                             "them from the list, or set allow_production=true if this is really intended",
                         recovery_instances=items)

    def summarize():
        return {
            "terminated": sum(1 for i in items if i["action"] == "terminate"),
            "targets_stopped": sum(1 for i in items if i["action"] == "stop_and_release"),
            "volumes_deleted": sum(len(i["deleted_volume_ids"]) for i in items),
        }

    before = {i["recovery_instance_id"]: {"ec2_state": i["ec2_state"], "drs_record": "present"} for i in items}
    result = dict(changed=bool(items), recovery_instances=items, not_found=not_found)
    if not module.check_mode and items:
        deadline = time.time() + params["wait_timeout"]
        errors = {}

        def execute(key):
            try:
                groups[key].execute(deadline)
            except (AccountAccessError, DRSError, ClientError, BotoCoreError) as e:
                errors[key] = e

        run_concurrently(execute, [k for k in keys if groups[k].items])
        result["summary"] = summarize()
        if errors:
            key, error = next(iter(errors.items()))
            fail_on(module, GroupFailure(key, error), "Recovery instance cleanup failed", **result)
    result["summary"] = summarize()
    if module._diff:
        result["diff"] = {
            "before": before,
            "after": {i["recovery_instance_id"]: {
                "ec2_state": "terminated" if i["action"] == "terminate" else "stopped", "drs_record": "absent",
                "deleted_volume_ids": i["deleted_volume_ids"]} for i in items},
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
