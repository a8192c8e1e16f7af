"""One function per emulated DRS operation: (context, validated input) -> output dict."""

from __future__ import annotations

from . import ec2
from .backend import ACTIVE_JOB_CONFLICT
from .backend import Context
from .backend import REGIONS
from .backend import SETTINGS
from .backend import _add_snapshot
from .backend import add_server
from .backend import initialize
from .backend import page
from .backend import region_state
from .backend import scaled
from .errors import DRSError
from .errors import conflict
from .errors import field_error
from .errors import not_found
from .errors import quota
from .errors import uninitialized
from .errors import validation
from .state import Job
from .state import LAUNCHABLE_STATES
from .state import RecoveryInstance
from .state import SourceServer
from .state import iso
from .state import parse_iso

OPERATIONS: dict = {}
# Operations that work before InitializeService (the model does not list UninitializedAccount for them).
NO_INIT = {"InitializeService", "TagResource", "UntagResource", "ListTagsForResource"}


def operation(func):
    name = "".join(part.capitalize() if part != "id" else "ID" for part in func.__name__.split("_"))
    OPERATIONS[name] = func
    return func


# --- service and source servers --------------------------------------------------------------------------

@operation
def initialize_service(ctx: Context, params: dict) -> dict:
    initialize(ctx.state)
    return {}


@operation
def describe_source_servers(ctx: Context, params: dict) -> dict:
    filters = params.get("filters") or {}
    ids = set(filters.get("sourceServerIDs") or [])
    staging = set(filters.get("stagingAccountIDs") or [])
    hardware = filters.get("hardwareId")
    items = []
    for server in ctx.state.servers.values():
        if ids and server.id not in ids:
            continue
        if staging and server.staging_account_id not in staging:
            continue
        if hardware and hardware not in (server.aws_instance_id, server.mac):
            continue
        items.append(server)
    return page(items, params, operation="DescribeSourceServers", render=lambda s: s.to_api(ctx.now))


def _set_replication(server: SourceServer, at: float, phases: list[tuple[str, str, float | None, str | None]]):
    """Append a replication progression: [(duration name or '', state, lag, error)]."""
    when = at
    server.timeline = [entry for entry in server.timeline if entry[0] < at]
    for duration, state, lag, error in phases:
        server.timeline.append((when, state, lag, error))
        if duration:
            when += scaled(duration)


def _active_job_for(state, server_id: str) -> Job | None:
    for job in state.jobs.values():
        if job.active and any(p.get("sourceServerID") == server_id for p in job.participants):
            return job
    return None


@operation
def start_replication(ctx: Context, params: dict) -> dict:
    server = ctx.server(params["sourceServerID"])
    current = server.state(ctx.now)
    if current == "DISCONNECTED":
        raise conflict(f"Source server {server.id} is disconnected; reinstall the AWS Replication Agent.",
                       server.id, "SOURCE_SERVER")
    if current != "STOPPED":
        raise conflict(f"Replication of source server {server.id} is not stopped (state {current}).",
                       server.id, "SOURCE_SERVER")
    _set_replication(server, ctx.now, [("initiating", "INITIATING", None, None),
                                       ("initial_sync", "INITIAL_SYNC", None, None), ("", "CONTINUOUS", 0, None)])
    return {"sourceServer": server.to_api(ctx.now)}


@operation
def stop_replication(ctx: Context, params: dict) -> dict:
    server = ctx.server(params["sourceServerID"])
    current = server.state(ctx.now)
    if current in ("DISCONNECTED", "STOPPED"):
        raise conflict(f"Replication of source server {server.id} is already {current.lower()}.",
                       server.id, "SOURCE_SERVER")
    server.set_state(ctx.now, "STOPPED", None)
    server.snapshots = []
    return {"sourceServer": server.to_api(ctx.now)}


@operation
def retry_data_replication(ctx: Context, params: dict) -> dict:
    server = ctx.server(params["sourceServerID"])
    if server.state(ctx.now) == "STALLED":
        _set_replication(server, ctx.now, [("rescan", "RESCAN", 0, None), ("", "CONTINUOUS", 0, None)])
    return server.to_api(ctx.now)


def _live_recovery_instances(state, server_id: str) -> list[RecoveryInstance]:
    return [ri for ri in state.recovery_instances.values() if ri.source_server_id == server_id]


@operation
def disconnect_source_server(ctx: Context, params: dict) -> dict:
    server = ctx.server(params["sourceServerID"])
    if _live_recovery_instances(ctx.state, server.id):
        raise conflict(f"Cannot disconnect source server {server.id}: it has a recovery instance. Terminate or "
                       "delete its recovery instances first.", server.id, "SOURCE_SERVER")
    if _active_job_for(ctx.state, server.id):
        raise conflict(ACTIVE_JOB_CONFLICT, server.id, "SOURCE_SERVER")
    server.set_state(ctx.now, "DISCONNECTED", None)
    server.snapshots = []
    return server.to_api(ctx.now)


@operation
def delete_source_server(ctx: Context, params: dict) -> dict:
    server = ctx.server(params["sourceServerID"])
    if server.state(ctx.now) != "DISCONNECTED":
        raise conflict(f"Source server {server.id} must be disconnected before it can be deleted.",
                       server.id, "SOURCE_SERVER")
    del ctx.state.servers[server.id]
    return {}


@operation
def describe_recovery_snapshots(ctx: Context, params: dict) -> dict:
    server = ctx.server(params["sourceServerID"])
    filters = params.get("filters") or {}
    low = parse_iso(filters["fromDateTime"]) if filters.get("fromDateTime") else None
    high = parse_iso(filters["toDateTime"]) if filters.get("toDateTime") else None
    snaps = [s for s in server.snapshots
             if (low is None or round(s["_at"], 6) >= round(low, 6))
             and (high is None or round(s["_at"], 6) <= round(high, 6))]
    snaps.sort(key=lambda s: s["_at"], reverse=params.get("order") == "DESC")
    items = [{k: v for k, v in s.items() if not k.startswith("_")} for s in snaps]
    return page(items, params, operation="DescribeRecoverySnapshots")


@operation
def list_staging_accounts(ctx: Context, params: dict) -> dict:
    accounts = sorted({s.staging_account_id for s in ctx.state.servers.values()
                       if s.staging_account_id != ctx.account_id})
    return page([{"accountID": a} for a in accounts], params, key="accounts", operation="ListStagingAccounts")


@operation
def list_extensible_source_servers(ctx: Context, params: dict) -> dict:
    return page([], params, operation="ListExtensibleSourceServers")


# --- launch and replication configuration ----------------------------------------------------------------

@operation
def get_launch_configuration(ctx: Context, params: dict) -> dict:
    server = ctx.server(params["sourceServerID"])
    return dict(server.launch_config)


UPDATABLE = ("name", "launchDisposition", "targetInstanceTypeRightSizingMethod", "copyPrivateIp", "copyTags",
             "licensing", "postLaunchEnabled", "launchIntoInstanceProperties", "recoveryMode")


@operation
def update_launch_configuration(ctx: Context, params: dict) -> dict:
    server = ctx.server(params["sourceServerID"])
    merged = dict(server.launch_config)
    for key in UPDATABLE:
        if key in params:
            merged[key] = params[key]
    target = (merged.get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID")
    if target:
        for flag, label in (("copyPrivateIp", "Copy private IP"), ("copyTags", "Transfer server tags")):
            if merged.get(flag):
                raise field_error(flag, f"{label} ({flag}) must be false when launchIntoEC2InstanceID is set: it "
                                        "cannot apply to an already launched instance.")
        try:
            ec2.check_launch_into_target(ctx.account_id, ctx.region, target, server, at_launch=False)
        except ec2.LaunchError as exc:
            raise field_error("launchIntoInstanceProperties.launchIntoEC2InstanceID", str(exc)) from None
    else:
        merged["launchIntoInstanceProperties"] = {}
    if merged.get("targetInstanceTypeRightSizingMethod") == "BASIC" and server.architecture == "arm64" and \
            params.get("targetInstanceTypeRightSizingMethod") == "BASIC":
        raise field_error("targetInstanceTypeRightSizingMethod",
                          f"Cannot set BASIC right sizing on source server {server.id}. BASIC right sizing is not "
                          "supported for arm64/Graviton source servers. Use IN_AWS or NONE instead.")
    if (merged.get("licensing") or {}).get("osByol") and server.os == "windows":
        raise field_error("licensing.osByol", "OS BYOL can only be used with EC2 Dedicated Hosts")
    if _active_job_for(ctx.state, server.id):
        raise conflict(ACTIVE_JOB_CONFLICT, server.id, "SOURCE_SERVER")
    server.launch_config = merged
    return dict(merged)


@operation
def describe_launch_configuration_templates(ctx: Context, params: dict) -> dict:
    ids = set(params.get("launchConfigurationTemplateIDs") or [])
    for template_id in ids:
        if template_id not in ctx.state.launch_templates:
            raise not_found(f"Launch configuration template {template_id} does not exist.", template_id,
                            "LAUNCH_CONFIGURATION_TEMPLATE")
    items = [dict(t) for t in ctx.state.launch_templates.values() if not ids or t["launchConfigurationTemplateID"]
             in ids]
    return page(items, params, operation="DescribeLaunchConfigurationTemplates")


TEMPLATE_FIELDS = ("launchDisposition", "targetInstanceTypeRightSizingMethod", "copyPrivateIp", "copyTags",
                   "licensing", "exportBucketArn", "postLaunchEnabled", "launchIntoSourceInstance", "recoveryMode")


@operation
def create_launch_configuration_template(ctx: Context, params: dict) -> dict:
    if ctx.state.launch_templates:
        raise quota("Max number of launch configuration templates per AWS account (1) reached.", "L-1F3FAE4D",
                    "LAUNCH_CONFIGURATION_TEMPLATE")
    from .backend import default_launch_template
    from .state import new_id

    template_id = new_id("lct-")
    template = default_launch_template()
    template.update({k: params[k] for k in TEMPLATE_FIELDS if k in params})
    template.update({"launchConfigurationTemplateID": template_id, "tags": dict(params.get("tags") or {}),
                     "arn": f"arn:aws:drs:{ctx.region}:{ctx.account_id}:launch-configuration-template/{template_id}"})
    ctx.state.launch_templates[template_id] = template
    return {"launchConfigurationTemplate": dict(template)}


@operation
def update_launch_configuration_template(ctx: Context, params: dict) -> dict:
    template = ctx.state.launch_templates.get(params["launchConfigurationTemplateID"])
    if template is None:
        raise not_found("Launch configuration template does not exist.", params["launchConfigurationTemplateID"],
                        "LAUNCH_CONFIGURATION_TEMPLATE")
    template.update({k: params[k] for k in TEMPLATE_FIELDS if k in params})
    return {"launchConfigurationTemplate": dict(template)}


@operation
def delete_launch_configuration_template(ctx: Context, params: dict) -> dict:
    if ctx.state.launch_templates.pop(params["launchConfigurationTemplateID"], None) is None:
        raise not_found("Launch configuration template does not exist.", params["launchConfigurationTemplateID"],
                        "LAUNCH_CONFIGURATION_TEMPLATE")
    return {}


@operation
def get_replication_configuration(ctx: Context, params: dict) -> dict:
    return dict(ctx.server(params["sourceServerID"]).replication_config)


@operation
def update_replication_configuration(ctx: Context, params: dict) -> dict:
    server = ctx.server(params["sourceServerID"])
    if server.staging_account_id != ctx.account_id:
        raise conflict(f"Source server {server.id} is extended from staging account {server.staging_account_id}; "
                       "update its replication settings there.", server.id, "SOURCE_SERVER")
    if "pitPolicy" in params and len(params["pitPolicy"]) != 3:
        raise field_error("pitPolicy", "The PIT policy must contain exactly 3 rules (MINUTE, HOUR and DAY).")
    server.replication_config.update({k: v for k, v in params.items() if k != "sourceServerID"})
    return dict(server.replication_config)


@operation
def describe_replication_configuration_templates(ctx: Context, params: dict) -> dict:
    ids = set(params.get("replicationConfigurationTemplateIDs") or [])
    items = [dict(t) for t in ctx.state.replication_templates.values()
             if not ids or t["replicationConfigurationTemplateID"] in ids]
    return page(items, params, operation="DescribeReplicationConfigurationTemplates")


@operation
def list_launch_actions(ctx: Context, params: dict) -> dict:
    return page([], params, operation="ListLaunchActions")


@operation
def describe_source_networks(ctx: Context, params: dict) -> dict:
    return page([], params, operation="DescribeSourceNetworks")


# --- jobs ------------------------------------------------------------------------------------------------

def _check_job_quotas(ctx: Context, server_ids: list[str]) -> None:
    if len(server_ids) > int(SETTINGS["max_servers_per_job"]):
        raise quota(f"Max source servers in a single Job is {SETTINGS['max_servers_per_job']}; the request has "
                    f"{len(server_ids)}. Split the servers into several jobs.", "L-B827C881", "JOB")
    for server_id in server_ids:
        job = _active_job_for(ctx.state, server_id)
        if job is not None:
            raise conflict(f"{ACTIVE_JOB_CONFLICT} (source server {server_id} is in job {job.id})", server_id,
                           "SOURCE_SERVER")
    active = [job for job in ctx.state.jobs.values() if job.active]
    if len(active) >= int(SETTINGS["max_concurrent_jobs"]):
        raise quota(f"Concurrent jobs in progress is limited to {SETTINGS['max_concurrent_jobs']}; "
                    f"{len(active)} jobs are active. Wait for a job to complete.", "L-D88FAC3A", "JOB")
    busy = sum(len(job.participants) for job in active)
    if busy + len(server_ids) > int(SETTINGS["max_servers_in_active_jobs"]):
        raise quota(f"Max source servers in all Jobs is {SETTINGS['max_servers_in_active_jobs']}; {busy} are in "
                    f"active jobs and the request adds {len(server_ids)}.", "L-05AFA8C6", "JOB")


@operation
def start_recovery(ctx: Context, params: dict) -> dict:
    requests = params["sourceServers"]
    server_ids = [item["sourceServerID"] for item in requests]
    if len(set(server_ids)) != len(server_ids):
        raise conflict("A source server is listed more than once in the request.")
    _check_job_quotas(ctx, server_ids)
    servers = []
    for item in requests:
        server = ctx.state.servers.get(item["sourceServerID"])
        if server is None:
            raise conflict(f"Source server {item['sourceServerID']} does not exist in {ctx.region}.",
                           item["sourceServerID"], "SOURCE_SERVER")
        servers.append((server, item.get("recoverySnapshotID")))
    is_drill = bool(params.get("isDrill", False))
    initiated = "START_DRILL" if is_drill else "START_RECOVERY"
    job = Job(ctx.state, "LAUNCH", initiated, is_drill, params.get("tags"), ctx.now)
    for server, _snap in servers:
        job.participants.append({"sourceServerID": server.id, "launchStatus": "PENDING"})
        server.last_launch = {"initiated": {"apiCallDateTime": iso(ctx.now), "jobID": job.id,
                                            "type": "DRILL" if is_drill else "RECOVERY"},
                              "status": "PENDING"}
        server.last_launch_result = "PENDING"
    _schedule_launch(ctx, job, servers)
    ctx.state.jobs[job.id] = job
    return {"job": job.to_api()}


def _schedule_launch(ctx: Context, job: Job, servers: list) -> None:
    state = ctx.state
    started = ctx.now + scaled("job_pending")

    def job_start(at):
        job.status = "STARTED"
        job.event(at, "JOB_START")
        for participant in job.participants:
            participant["launchStatus"] = "IN_PROGRESS"
        for server, _snap in servers:
            if server.last_launch and server.last_launch["initiated"].get("jobID") == job.id:
                server.last_launch["status"] = "IN_PROGRESS"

    job.add_step(started, job_start)
    last = started
    for server, snapshot_id in servers:
        last = max(last, _schedule_server(ctx, state, job, server, snapshot_id, started))
    end = last + scaled("job_end")

    def job_end(at):
        job.event(at, "JOB_END")
        job.status = "COMPLETED"
        job.ended = at

    job.add_step(end, job_end)
    job.steps.sort(key=lambda step: (step[0], step[1]))


def _schedule_server(ctx, state, job: Job, server: SourceServer, snapshot_id: str | None, at: float) -> float:
    participant = job.participant(server.id)

    def failed() -> bool:
        return participant["launchStatus"] == "FAILED"

    def fail(when, event, raw):
        job.event(when, event, sourceServerID=server.id, rawError=raw)
        participant["launchStatus"] = "FAILED"
        _finish(server, job, "FAILED")

    t = at
    previous = list(server.launched_instances)
    if previous:
        def cleanup_start(when):
            job.event(when, "CLEANUP_START", sourceServerID=server.id)

        def cleanup_end(when):
            for instance_id, acct, region, launch_into in previous:
                record = REGIONS.get((acct, region))
                if record is not None:
                    record.recovery_instances.pop(instance_id, None)
                if not launch_into and ec2.find_instance(acct, region, instance_id) is not None:
                    ec2.terminate(acct, region, instance_id)
            server.launched_instances = [p for p in server.launched_instances if p not in previous]
            if server.recovery_instance_id in {p[0] for p in previous}:
                server.recovery_instance_id = None
            job.event(when, "CLEANUP_END", sourceServerID=server.id)

        job.add_step(t, cleanup_start)
        t += scaled("cleanup")
        job.add_step(t, cleanup_end)

    def snapshot_start(when):
        if server.state(when) not in LAUNCHABLE_STATES:
            fail(when, "LAUNCH_FAILED", f"Source server {server.id} instance not launched because server lifecycle "
                                        "state is not READY_FOR_TEST")
            return
        if snapshot_id is not None:
            match = [s for s in server.snapshots if s["snapshotID"] == snapshot_id]
            if not match:
                fail(when, "USING_PREVIOUS_SNAPSHOT_FAILED",
                     f"Recovery snapshot {snapshot_id} does not exist for source server {server.id}")
                return
            job.snapshot_times[server.id] = match[0]["_at"]
            job.event(when, "USING_PREVIOUS_SNAPSHOT", sourceServerID=server.id)
        else:
            job.event(when, "SNAPSHOT_START", sourceServerID=server.id)

    job.add_step(t, snapshot_start)
    t += scaled("snapshot")

    def snapshot_end(when):
        if failed() or snapshot_id is not None:
            return
        snap = _add_snapshot(server, when)
        job.snapshot_times[server.id] = snap["_at"]
        job.event(when, "SNAPSHOT_END", sourceServerID=server.id)
        job.event(when, "CONVERSION_START", sourceServerID=server.id)

    def conversion_start_previous(when):
        if not failed() and snapshot_id is not None:
            job.event(when, "CONVERSION_START", sourceServerID=server.id)

    job.add_step(t, snapshot_end)
    job.add_step(t, conversion_start_previous)
    t += scaled("conversion")

    def conversion_end(when):
        if failed():
            return
        from .state import new_id

        job.event(when, "CONVERSION_END", sourceServerID=server.id, conversionServerID=new_id("i-"))
        job.event(when, "LAUNCH_START", sourceServerID=server.id)

    job.add_step(t, conversion_end)
    t += scaled("launch")

    def launch(when):
        if failed():
            return
        config = server.launch_config
        if server.hostname in SETTINGS["launch_failures"] or server.id in SETTINGS["launch_failures"]:
            fail(when, "LAUNCH_FAILED",
                 "An error occurred (InsufficientInstanceCapacity) when calling the RunInstances operation: "
                 "We currently do not have sufficient capacity in the Availability Zone you requested.")
            return
        target = (config.get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID")
        try:
            if target:
                facts = ec2.launch_into(state.account_id, state.region, target, server,
                                        config.get("launchDisposition", "STARTED"))
            else:
                facts = ec2.launch_new(state.account_id, state.region, server, config)
        except ec2.LaunchError as exc:
            fail(when, "LAUNCH_FAILED", str(exc))
            return
        record = RecoveryInstance(state, server, job, facts, when, launch_into=bool(target))
        state.recovery_instances[record.id] = record
        server.launched_instances.append((record.id, state.account_id, state.region, bool(target)))
        server.recovery_instance_id = record.id
        participant["launchStatus"] = "LAUNCHED"
        participant["recoveryInstanceID"] = record.id
        job.event(when, "LAUNCH_END", sourceServerID=server.id, targetInstanceID=record.id)
        _finish(server, job, "LAUNCHED")

    job.add_step(t, launch)
    return t


def _finish(server: SourceServer, job: Job, status: str) -> None:
    if server.last_launch and server.last_launch["initiated"].get("jobID") == job.id:
        server.last_launch["status"] = status
        server.last_launch_result = "SUCCEEDED" if status == "LAUNCHED" else "FAILED"


@operation
def describe_jobs(ctx: Context, params: dict) -> dict:
    filters = params.get("filters") or {}
    ids = set(filters.get("jobIDs") or [])
    low = parse_iso(filters["fromDate"]) if filters.get("fromDate") else None
    high = parse_iso(filters["toDate"]) if filters.get("toDate") else None
    # Timestamps are rendered to the microsecond: compare at that precision, so a job's own creationDateTime
    # passed back as fromDate/toDate always includes it.
    jobs = [job for job in ctx.state.jobs.values()
            if (not ids or job.id in ids) and (low is None or round(job.created, 6) >= round(low, 6))
            and (high is None or round(job.created, 6) <= round(high, 6))]
    jobs.sort(key=lambda job: job.created, reverse=True)
    return page(jobs, params, operation="DescribeJobs", render=lambda job: job.to_api())


@operation
def describe_job_log_items(ctx: Context, params: dict) -> dict:
    job = ctx.state.jobs.get(params["jobID"])
    if job is None:
        raise field_error("jobID", f"Job {params['jobID']} does not exist in {ctx.region}.")
    return page([dict(item) for item in job.log], params, operation="DescribeJobLogItems")


@operation
def delete_job(ctx: Context, params: dict) -> dict:
    job = ctx.state.jobs.get(params["jobID"])
    if job is None:
        return {}
    if job.active:
        raise conflict(f"Job {job.id} is {job.status} and cannot be deleted until it completes.", job.id, "JOB")
    del ctx.state.jobs[job.id]
    return {}


# --- recovery instances ----------------------------------------------------------------------------------

@operation
def describe_recovery_instances(ctx: Context, params: dict) -> dict:
    filters = params.get("filters") or {}
    ids = set(filters.get("recoveryInstanceIDs") or [])
    servers = set(filters.get("sourceServerIDs") or [])
    items = [ri for ri in ctx.state.recovery_instances.values()
             if (not ids or ri.id in ids) and (not servers or ri.source_server_id in servers)]
    return page(items, params, operation="DescribeRecoveryInstances", render=ctx.ri_api)


def _replicating_from(ri: RecoveryInstance, at: float) -> bool:
    server = ri.reverse_server
    if server is None:
        return False
    record = REGIONS.get((server.account_id, server.region))
    if record is None or record.servers.get(server.id) is not server:
        return False
    return server.state(at) not in ("STOPPED", "DISCONNECTED")


@operation
def terminate_recovery_instances(ctx: Context, params: dict) -> dict:
    ids = params["recoveryInstanceIDs"]
    instances = []
    for instance_id in ids:
        ri = ctx.state.recovery_instances.get(instance_id)
        if ri is None:
            raise conflict(f"Recovery instance {instance_id} does not exist in {ctx.region}.", instance_id,
                           "RECOVERY_INSTANCE")
        if _replicating_from(ri, ctx.now):
            raise conflict(f"Recovery instances cannot be terminated during failback: {instance_id} feeds source "
                           f"server {ri.reverse_server.id}. Stop its replication first.", instance_id,
                           "RECOVERY_INSTANCE")
        instances.append(ri)
    _check_job_quotas(ctx, [ri.source_server_id for ri in instances])
    job = Job(ctx.state, "TERMINATE", "TERMINATE_RECOVERY_INSTANCES", False, {}, ctx.now)
    for ri in instances:
        job.participants.append({"sourceServerID": ri.source_server_id, "recoveryInstanceID": ri.id,
                                 "launchStatus": "PENDING"})
    started = ctx.now + scaled("job_pending")
    state = ctx.state

    def job_start(at):
        job.status = "STARTED"
        job.event(at, "JOB_START")
        for ri in instances:
            job.event(at, "CLEANUP_START", sourceServerID=ri.source_server_id)
            job.participant(ri.id)["launchStatus"] = "IN_PROGRESS"

    def terminate(at):
        for ri in instances:
            if ri.launch_into is False or SETTINGS["terminate_launch_into_targets"]:
                ec2.terminate(ri.account_id, ri.region, ri.id)
            state.recovery_instances.pop(ri.id, None)
            server = ri.source_server
            server.launched_instances = [p for p in server.launched_instances if p[0] != ri.id]
            if server.recovery_instance_id == ri.id:
                server.recovery_instance_id = None
            job.participant(ri.id)["launchStatus"] = "TERMINATED"
            job.event(at, "CLEANUP_END", sourceServerID=ri.source_server_id)

    def job_end(at):
        job.event(at, "JOB_END")
        job.status = "COMPLETED"
        job.ended = at

    job.add_step(started, job_start)
    job.add_step(started + scaled("terminate"), terminate)
    job.add_step(started + scaled("terminate") + scaled("job_end"), job_end)
    ctx.state.jobs[job.id] = job
    return {"job": job.to_api()}


@operation
def disconnect_recovery_instance(ctx: Context, params: dict) -> dict:
    ri = ctx.recovery_instance(params["recoveryInstanceID"])
    if ri.reverse_server is not None:
        raise conflict(f"Reversed replication was started for recovery instance {ri.id}; it cannot be "
                       "disconnected. Delete it instead.", ri.id, "RECOVERY_INSTANCE")
    ri.disconnected_at = ctx.now
    return {}


@operation
def delete_recovery_instance(ctx: Context, params: dict) -> dict:
    ri = ctx.state.recovery_instances.get(params["recoveryInstanceID"])
    if ri is None:
        raise conflict(f"Recovery instance {params['recoveryInstanceID']} does not exist in {ctx.region}.",
                       params["recoveryInstanceID"], "RECOVERY_INSTANCE")
    if ri.disconnected_at is None and ri.reverse_server is None:
        raise conflict(f"Recovery instance {ri.id} must be disconnected before it can be deleted.", ri.id,
                       "RECOVERY_INSTANCE")
    del ctx.state.recovery_instances[ri.id]
    if ri.source_server.recovery_instance_id == ri.id:
        ri.source_server.recovery_instance_id = None
    return {}


@operation
def get_failback_replication_configuration(ctx: Context, params: dict) -> dict:
    ri = ctx.recovery_instance(params["recoveryInstanceID"])
    config = getattr(ri, "failback_config", None) or {"bandwidthThrottling": 0, "usePrivateIP": False,
                                                      "internetProtocol": "IPV4"}
    return {"recoveryInstanceID": ri.id, "name": ri.source_server.hostname, **config}


@operation
def update_failback_replication_configuration(ctx: Context, params: dict) -> dict:
    ri = ctx.recovery_instance(params["recoveryInstanceID"])
    config = getattr(ri, "failback_config", None) or {"bandwidthThrottling": 0, "usePrivateIP": False,
                                                      "internetProtocol": "IPV4"}
    config.update({k: v for k, v in params.items() if k in ("bandwidthThrottling", "usePrivateIP",
                                                            "internetProtocol")})
    ri.failback_config = config
    return {}


@operation
def stop_failback(ctx: Context, params: dict) -> dict:
    ctx.recovery_instance(params["recoveryInstanceID"])
    return {}


@operation
def reverse_replication(ctx: Context, params: dict) -> dict:
    ri = ctx.recovery_instance(params["recoveryInstanceID"])
    server = ri.source_server
    if ri.origin_environment != "AWS":
        raise field_error("recoveryInstanceID", "Reversed replication applies only to protected instances that "
                                                "originated in EC2; use the Failback Client.")
    if ctx.now < ri.agent_ready_at(SETTINGS):
        raise conflict(f"Recovery instance {ri.id} has not finished initializing. Try again later.", ri.id,
                       "RECOVERY_INSTANCE")
    ec2_state = ec2.ec2_state(ri.account_id, ri.region, ri.id)
    if ec2_state != "RUNNING":
        raise conflict(f"Recovery instance {ri.id} must be running to start reversed replication (it is "
                       f"{ec2_state}).", ri.id, "RECOVERY_INSTANCE")
    if ri.reverse_server is not None:
        existing = ri.reverse_server
        record = REGIONS.get((existing.account_id, existing.region))
        if record is not None and record.servers.get(existing.id) is existing and \
                existing.state(ctx.now) != "DISCONNECTED":
            return {"reversedDirectionSourceServerArn": existing.arn}
    if server.direction == "FAILOVER":
        target = _failback_server(ctx, ri, server)
    else:
        target = _reprotect(ctx, ri, server)
    ri.reverse_server = target
    ri.reverse_started = ctx.now
    return {"reversedDirectionSourceServerArn": target.arn}


def _failback_server(ctx: Context, ri: RecoveryInstance, forward: SourceServer) -> SourceServer:
    account, region = forward.origin_account_id or ctx.account_id, forward.origin_region
    origin = region_state(account, region)
    if not origin.initialized:
        raise uninitialized(account, region)
    spec = {
        "hostname": forward.hostname, "source_instance_id": ri.id, "origin_region": ctx.region,
        "origin_account_id": ctx.account_id, "origin_availability_zone": ri.az, "private_ip": forward.private_ip,
        "os": forward.os, "instance_type": forward.instance_type, "boot_mode": forward.boot_mode,
        "architecture": forward.architecture, "disks": [dict(d) for d in forward.disks],
        "tags": dict(forward.tags), "replication_direction": "FAILBACK",
        "staging_account_id": account,
    }
    template = next(iter(origin.launch_templates.values()), {})
    if template.get("launchIntoSourceInstance") and forward.aws_instance_id:
        try:
            ec2.check_launch_into_target(account, region, forward.aws_instance_id, forward, at_launch=False)
        except ec2.LaunchError as exc:
            raise conflict(f"Cannot start reversed replication: launch into source instance is enabled in "
                           f"{region} but {exc}", ri.id, "RECOVERY_INSTANCE") from None
    failback = add_server(origin, spec, ctx.now)
    if template.get("launchIntoSourceInstance") and forward.aws_instance_id:
        failback.launch_config.update({"launchIntoInstanceProperties": {
            "launchIntoEC2InstanceID": forward.aws_instance_id}, "copyPrivateIp": False, "copyTags": False})
    failback.staging_account_id = account
    failback.reversed_arn = forward.arn
    forward.reversed_arn = failback.arn
    failback.timeline = []
    _set_replication(failback, ctx.now, [("initiating", "INITIATING", None, None),
                                         ("initial_sync", "INITIAL_SYNC", None, None), ("", "CONTINUOUS", 0, None)])
    return failback


def _reprotect(ctx: Context, ri: RecoveryInstance, failback: SourceServer) -> SourceServer:
    forward = None
    if failback.reversed_arn:
        parts = failback.reversed_arn.split(":")
        record = REGIONS.get((parts[4], parts[3]))
        if record is not None:
            forward = record.servers.get(parts[5].split("/")[-1])
    if forward is None or forward.state(ctx.now) == "DISCONNECTED":
        raise conflict(f"The source server that protected this instance before failback no longer exists in "
                       f"{failback.origin_region}; reinstall the AWS Replication Agent to protect {ri.id}.",
                       ri.id, "RECOVERY_INSTANCE")
    forward.aws_instance_id = ri.id
    forward.reversed_arn = failback.arn
    _set_replication(forward, ctx.now, [("stalled", "STALLED", None, "AGENT_NOT_SEEN"),
                                        ("rescan", "RESCAN", 0, None), ("", "CONTINUOUS", 0, None)])
    return forward


# --- tags ------------------------------------------------------------------------------------------------

def _tagged(ctx: Context, arn: str):
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "drs" or "/" not in parts[5]:
        raise not_found(f"Resource {arn} does not exist.", arn)
    region, account = parts[3], parts[4]
    kind, _slash, ident = parts[5].partition("/")
    if account != ctx.account_id or region != ctx.region:
        raise not_found(f"Resource {arn} does not exist.", arn)
    state = ctx.state
    found = None
    if kind == "source-server":
        found = state.servers.get(ident)
    elif kind == "recovery-instance":
        found = state.recovery_instances.get(ident)
    elif kind == "job":
        found = state.jobs.get(ident)
    elif kind == "launch-configuration-template":
        found = state.launch_templates.get(ident)
    elif kind == "replication-configuration-template":
        found = state.replication_templates.get(ident)
    if found is None:
        raise not_found(f"Resource {arn} does not exist.", arn)
    return found


def _tags_of(found) -> dict:
    if isinstance(found, dict):
        return found.setdefault("tags", {})
    return found.tags


@operation
def list_tags_for_resource(ctx: Context, params: dict) -> dict:
    return {"tags": dict(_tags_of(_tagged(ctx, params["resourceArn"])))}


@operation
def tag_resource(ctx: Context, params: dict) -> dict:
    tags = _tags_of(_tagged(ctx, params["resourceArn"]))
    merged = {**tags, **params["tags"]}
    if len(merged) > 50:
        raise field_error("tags", "Each resource can have a maximum of 50 tags.")
    for key in params["tags"]:
        if key.lower().startswith("aws:"):
            raise field_error("tags", "Tag keys starting with 'aws:' are reserved.")
    tags.update(params["tags"])
    return {}


@operation
def untag_resource(ctx: Context, params: dict) -> dict:
    tags = _tags_of(_tagged(ctx, params["resourceArn"]))
    for key in params["tagKeys"]:
        tags.pop(key, None)
    return {}


__all__ = ["OPERATIONS", "NO_INIT", "DRSError", "validation"]
