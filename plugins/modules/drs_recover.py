#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drs_recover
short_description: Launch AWS Elastic Disaster Recovery drills or recoveries for many servers, in batched jobs
version_added: 0.1.0
description:
  - Starts DRS drill (O(drill=true)) or recovery (O(drill=false)) launches for any number of source
    servers across accounts and regions, waits for them, and reports per server the launch status,
    the recovery instance, its EC2 instance ID and private IP, whether it launched into the expected
    pre-provisioned target, and the raw DRS error of every failure.
  - Servers are grouped by account and region; each group uses one client and groups run concurrently.
  - Inside a group, servers are ordered by priority (critical, high, medium, low, then the order given)
    and sent in jobs of at most O(max_servers_per_job) servers, never with more than
    O(max_active_jobs) active jobs or O(max_servers_in_active_jobs) servers in active jobs in that
    account and region, counting the jobs already running there. At the limit the module polls
    until jobs finish, then submits the next chunk.
  - Idempotent across interrupted runs. Every job is tagged with O(run_id). A server already in an
    active launch job, or launched by a job of this run, is not launched again; its job is followed
    and reported instead. A server that failed in this run is launched again.
  - DRS StartRecovery has no client token, so it is never retried blindly. After a timeout or a 5xx
    the module looks for the job carrying the submission's batch tag before submitting again; a
    C(ConflictException) leads to finding which job holds which server (a job of this run is
    adopted), and a conflict that names one server (for example a launch-into target that is
    running) fails that server only.
  - Polling is batched - one DescribeJobs call per 100 jobs per account and region per poll.
  - Before any change, every server's own DRS tags are checked against O(customer) and O(environment).
  - Check mode returns the plan - which servers go in which job, in which order, and which are
    skipped because they are already in a job or launched - without any mutating call.
options:
  servers:
    description:
      - The source servers to launch.
    type: list
    elements: dict
    required: true
    suboptions:
      source_server_id:
        description: The DRS source server ID (C(s-...)).
        type: str
        required: true
      account_id:
        description: The DRS recovery account of the server. Defaults to the module's own credentials.
        type: str
      region:
        description: The DRS recovery region of the server. Defaults to the module's region.
        type: str
      hostname:
        description: The server's hostname, for the report. Defaults to the hostname DRS identified.
        type: str
      priority:
        description: Launch order inside the account and region. Servers without a priority count as C(medium).
        type: str
        choices: [critical, high, medium, low]
      target_instance_id:
        description:
          - The EC2 instance the server is expected to launch into.
          - When omitted, the launch configuration's C(launchIntoEC2InstanceID) is the expected target.
        type: str
  drill:
    description:
      - C(true) launches drill instances, C(false) launches recovery instances (a real failover).
    type: bool
    required: true
  run_id:
    description:
      - The execution ID of this run, stored in every job's C(enterprise-dr:execution-id) tag.
      - Re-running with the same O(run_id) after an interruption resumes the run - servers already
        launched or in a job of this run are not launched again. A new drill needs a new O(run_id).
    type: str
    required: true
    aliases: [execution_id]
  failure_policy:
    description:
      - C(fail) fails the task, after every job of the call has been waited for, naming each failed
        server with its raw DRS error.
      - C(continue) returns successfully and lists the failed servers in RV(failed_servers).
    type: str
    choices: [fail, continue]
    default: fail
  job_tags:
    description: Extra tags for the DRS jobs this module starts.
    type: dict
    default: {}
  job_lookback_hours:
    description:
      - How far back DescribeJobs looks for active jobs and jobs of this run.
      - Jobs named by a server's last launch are found whatever their age.
    type: int
    default: 48
  max_servers_per_job:
    description: DRS quota - source servers in one job.
    type: int
    default: 100
  max_active_jobs:
    description: DRS quota - concurrent jobs per account and region.
    type: int
    default: 20
  max_servers_in_active_jobs:
    description: DRS quota - source servers across all active jobs per account and region.
    type: int
    default: 500
  check_launch_into:
    description:
      - Read the launch configuration of each launched server that has no O(servers[].target_instance_id),
        to report whether it launched into its configured launch-into target (one call per server).
    type: bool
    default: true
notes:
  - O(wait=false) returns once every server is in a job, with the job IDs. When the quotas do not let
    every chunk start at once, the module still waits for capacity to submit the remaining chunks.
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
- name: Drill wave 1 of acme, into the pre-provisioned targets
  enterprise_dr.orchestration.drs_recover:
    region: us-west-2
    customer: acme
    env: production
    drill: true
    run_id: "{{ execution_id }}"
    servers: "{{ wave_servers }}"
    accounts:
      - account_id: "210987654321"
        role_arn: arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole
        external_id: edr-demo-workload-a
    poll_interval: 30
    wait_timeout: 3600
  register: drill

- name: Recovery of two servers; report failures without failing the task
  enterprise_dr.orchestration.drs_recover:
    region: us-west-2
    customer: acme
    drill: false
    run_id: "{{ execution_id }}"
    failure_policy: continue
    servers:
      - source_server_id: s-1234567890abcdef0
        priority: critical
        target_instance_id: i-0123456789abcdef0
      - source_server_id: s-0fedcba9876543210
        account_id: "345678901234"
  register: recovery

- name: Start the jobs only; follow them later with drs_job_info
  enterprise_dr.orchestration.drs_recover:
    region: us-west-2
    customer: acme
    drill: true
    run_id: "{{ execution_id }}"
    servers: "{{ wave_servers }}"
    wait: false
"""

RETURN = r"""
servers:
  description: One result per requested server, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    source_server_id:
      description: The DRS source server ID.
      type: str
      sample: s-1234567890abcdef0
    hostname:
      description: The hostname given, or the one DRS identified.
      type: str
    account_id:
      description: The DRS recovery account.
      type: str
      sample: "210987654321"
    region:
      description: The DRS recovery region.
      type: str
      sample: us-west-2
    priority:
      description: The priority used for ordering.
      type: str
    action:
      description:
        - What this call did for the server. C(launch) - submitted in a new job. C(adopt) - already in an
          active launch job, followed. C(done) - already launched by a job of this run, not launched again.
          C(blocked) - held by another kind of active job (for example a terminate job) and launched once it ended.
      type: str
    already_handled:
      description: True when the server was in a job or launched before this call (action adopt or done).
      type: bool
    job_id:
      description: The DRS job holding the server's launch for this run.
      type: str
      sample: drsjob-1234567890abcdef0
    launch_status:
      description:
        - The server's launch status in that job (C(PENDING), C(IN_PROGRESS), C(LAUNCHED), C(FAILED)),
          C(NOT_STARTED) when no job holds it. In check mode, servers still to launch are C(NOT_STARTED).
      type: str
    recovery_instance_id:
      description: The DRS recovery instance ID.
      type: str
    ec2_instance_id:
      description: The EC2 instance the server launched as.
      type: str
    ec2_state:
      description: The EC2 state of that instance.
      type: str
    private_ip:
      description: The instance's private IP address.
      type: str
    expected_target_instance_id:
      description: The launch-into target expected (given, or the launch configuration's); null when none.
      type: str
    launched_into_target:
      description:
        - Whether the server launched into the expected target.
        - Null when no target was expected or the server has not launched.
      type: bool
    recovery_point_time:
      description:
        - When the data the server launched with was captured (the recovery instance's C(pointInTimeSnapshotDateTime)).
        - Null until the server launched. With RV(servers[].recovery_started_at) it gives the measured RPO.
      type: str
    recovery_started_at:
      description: When the job that launched the server was created (the launch request).
      type: str
    raw_error:
      description: For a failed server, the raw error from the DRS job log (or the StartRecovery refusal).
      type: str
jobs:
  description: The jobs holding this run's launches of the requested servers.
  returned: always
  type: list
  elements: dict
  contains:
    job_id:
      description: The DRS job ID.
      type: str
    account_id:
      description: The account of the job.
      type: str
    region:
      description: The region of the job.
      type: str
    status:
      description: C(PENDING), C(STARTED) or C(COMPLETED) (a job never fails; servers do).
      type: str
    type:
      description: The job type, C(LAUNCH).
      type: str
    initiated_by:
      description: C(START_DRILL) or C(START_RECOVERY).
      type: str
    servers:
      description: Number of servers in the job.
      type: int
    started_by_this_task:
      description: Whether this call started the job.
      type: bool
    creation_date_time:
      description: When the job was created.
      type: str
    end_date_time:
      description: When the job ended.
      type: str
    tags:
      description: The job's tags.
      type: dict
plan:
  description: The chunks of servers submitted (or, in check mode, to submit), in order, per account and region.
  returned: always
  type: list
  elements: dict
  contains:
    order:
      description: Position of the chunk in its account and region.
      type: int
    account_id:
      description: The account.
      type: str
    region:
      description: The region.
      type: str
    starts:
      description: C(now), or C(when_capacity_frees) when the DRS quotas make it wait for running jobs.
      type: str
    source_server_ids:
      description: The servers of the chunk, in priority order.
      type: list
      elements: str
skipped:
  description: Servers not submitted because they are already in a job or launched by this run.
  returned: always
  type: list
  elements: dict
  contains:
    source_server_id:
      description: The server.
      type: str
    job_id:
      description: The job holding or having launched it.
      type: str
    reason:
      description: Why it was skipped.
      type: str
failed_servers:
  description: The failed servers with their raw DRS error.
  returned: always
  type: list
  elements: dict
  contains:
    source_server_id:
      description: The server.
      type: str
    hostname:
      description: Its hostname.
      type: str
    raw_error:
      description: The raw error.
      type: str
summary:
  description: Counts over RV(servers).
  returned: always
  type: dict
  contains:
    total:
      description: Servers requested.
      type: int
    launched:
      description: Servers with launch status C(LAUNCHED).
      type: int
    failed:
      description: Servers that failed.
      type: int
    in_progress:
      description: Servers still launching (O(wait=false) or timeout).
      type: int
    not_started:
      description: Servers in no job.
      type: int
    already_handled:
      description: Servers in a job or launched before this call.
      type: int
    launched_into_target:
      description: Servers that launched into their expected target.
      type: int
    jobs_started:
      description: Jobs this call started (in check mode, jobs it would start).
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
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import DRSError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import Limits
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import RecoveryGroup
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import read_launch_configuration
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_jobs import summarize_results
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import SERVERS_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import SCOPE_ARGUMENT_SPEC
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import ScopeError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.scope import check_scope


class GroupFailure(Exception):
    def __init__(self, key, error):
        super().__init__(str(error))
        self.key = key
        self.error = error


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
    if isinstance(cause, (DRSError, ScopeError)):
        module.fail_json(msg=f"{doing}{place}: {cause}", **result)
    code = (getattr(cause, "response", None) or {}).get("Error", {}).get("Code")
    if code == "UninitializedAccountException":
        module.fail_json_aws(cause, msg=f"DRS is not initialized{place}. Fix: initialize the service there "
                                        "or drop its servers from the wave", **result)
    module.fail_json_aws(cause, msg=f"{doing}{place}", **result)


def main():
    argument_spec = dict(
        drill=dict(type="bool", required=True),
        run_id=dict(type="str", required=True, aliases=["execution_id"]),
        failure_policy=dict(type="str", choices=["fail", "continue"], default="fail"),
        job_tags=dict(type="dict", default={}),
        job_lookback_hours=dict(type="int", default=48),
        max_servers_per_job=dict(type="int", default=100),
        max_active_jobs=dict(type="int", default=20),
        max_servers_in_active_jobs=dict(type="int", default=500),
        check_launch_into=dict(type="bool", default=True),
    )
    argument_spec.update(SERVERS_ARGUMENT_SPEC)
    argument_spec.update(SCOPE_ARGUMENT_SPEC)
    argument_spec.update(ACCOUNTS_ARGUMENT_SPEC)
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    module = DRModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    for name in ("max_servers_per_job", "max_active_jobs", "max_servers_in_active_jobs", "poll_interval"):
        if params[name] < 1:
            module.fail_json(msg=f"{name} must be at least 1, not {params[name]}")
    if not params["run_id"].strip():
        module.fail_json(msg="run_id must not be empty: pass the execution ID of this run")

    factory = ClientFactory(module, accounts=params["accounts"])
    if not factory.default_region and any(not s.get("region") for s in params["servers"]):
        module.fail_json(msg="No region given: set region (or AWS_REGION) or each server's region")
    seen = set()
    for server in params["servers"]:
        key = (server.get("account_id"), server.get("region") or factory.default_region, server["source_server_id"])
        if key in seen:
            module.fail_json(msg=f"source server {server['source_server_id']} is listed twice; list each server once")
        seen.add(key)

    limits = Limits(params["max_servers_per_job"], params["max_active_jobs"], params["max_servers_in_active_jobs"])
    deadline = time.time() + params["wait_timeout"]
    entries = [dict(s, region=s.get("region") or factory.default_region) for s in params["servers"]]
    grouped = group_by_account_region(entries)
    groups = {}

    def prepare(key):
        account_id, region = key
        try:
            group = RecoveryGroup(
                factory.client("drs", account_id=account_id, region=region), None,
                factory.client("ec2", account_id=account_id, region=region),
                account_id, region, grouped[key], params["run_id"], params["drill"], limits=limits,
                poll_interval=params["poll_interval"], deadline=deadline,
                lookback_hours=params["job_lookback_hours"], extra_tags=params["job_tags"],
            )
            group.prepare()
        except (AccountAccessError, DRSError, ClientError, BotoCoreError) as e:
            raise GroupFailure(key, e) from e
        groups[key] = group

    try:
        run_concurrently(prepare, grouped)
    except GroupFailure as e:
        fail_on(module, e, "Could not read DRS source servers and jobs")

    try:
        check_scope([item for group in groups.values() for item in group.scope_items()],
                    params["customer"], params.get("environment"))
    except ScopeError as e:
        module.fail_json(msg=str(e), violations=e.violations)

    errors = {}
    if not module.check_mode:
        def execute(key):
            account_id, region = key
            group = groups[key]
            try:
                if group.to_launch():
                    reader = None
                    if params["check_launch_into"]:
                        def reader(sid):
                            return read_launch_configuration(group.drs, sid)
                    group.mark_targets(reader)
                group.execute(wait=params["wait"])
            except (AccountAccessError, DRSError, ClientError, BotoCoreError) as e:
                errors[key] = e

        run_concurrently(execute, groups)

    def collect(key):
        group = groups[key]
        reader = None
        if params["check_launch_into"]:
            def reader(sid):
                return read_launch_configuration(group.drs, sid)
        try:
            return group.collect(reader), group.job_summaries()
        except (ClientError, BotoCoreError) as e:
            errors.setdefault(key, e)
            return [], group.job_summaries()

    collected = run_concurrently(collect, groups)
    by_server = {}
    jobs = []
    plan = []
    skipped = []
    for key, (results, job_list) in collected.items():
        for r in results:
            by_server[(key, r["source_server_id"])] = r
        jobs.extend(job_list)
        chunks, skips = groups[key].plan_summary()
        plan.extend(chunks)
        skipped.extend(skips)
    servers = []
    for entry in entries:
        key = (entry.get("account_id"), entry["region"])
        servers.append(by_server.get((key, entry["source_server_id"])) or {
            "source_server_id": entry["source_server_id"], "account_id": entry.get("account_id"),
            "region": entry["region"], "launch_status": "UNKNOWN", "raw_error": None,
        })
    started = sum(len(g.started_jobs) for g in groups.values())
    summary = summarize_results(servers, jobs_started=started if not module.check_mode else len(plan))
    failed = [{"source_server_id": s["source_server_id"], "hostname": s.get("hostname"), "raw_error": s["raw_error"]}
              for s in servers if s["launch_status"] == "FAILED"]
    changed = started > 0 or (module.check_mode and bool(plan))
    result = dict(changed=changed, servers=servers, jobs=jobs, plan=plan, skipped=skipped,
                  failed_servers=failed, summary=summary)
    if module._diff:
        result["diff"] = {
            "before": {s["source_server_id"]: s.get("job_id") if s.get("already_handled") else None for s in servers},
            "after": {s["source_server_id"]: s.get("job_id") or ("new job" if s.get("action") in ("launch", "blocked")
                                                                 else None) for s in servers},
        }

    if errors:
        key, error = next(iter(errors.items()))
        fail_on(module, GroupFailure(key, error), "DRS recovery failed", **result)
    timed_out = [g for g in groups.values() if g.timed_out]
    if timed_out:
        unfinished = [sid for g in timed_out for sid in g.unfinished()]
        module.fail_json(
            msg=(f"Timed out after {params['wait_timeout']}s waiting for DRS jobs; unfinished servers: "
                 f"{', '.join(unfinished[:50])}{' ...' if len(unfinished) > 50 else ''}. Fix: raise wait_timeout, "
                 f"or re-run with the same run_id to resume without launching them twice"),
            **result,
        )
    if failed and params["failure_policy"] == "fail":
        names = "; ".join(f"{f['source_server_id']} ({f.get('hostname') or '?'}): {f['raw_error']}" for f in failed)
        module.fail_json(msg=f"{len(failed)} of {len(servers)} servers failed to launch: {names}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
