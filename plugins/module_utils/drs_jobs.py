# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Batched DRS recovery jobs: the batch planner, the job submitter and the poller.

DRS takes at most 100 source servers per job, runs at most 20 jobs and 500 servers in active jobs
per account and region, and lets a server be in one active job only. StartRecovery has no client
token, so a submission is never retried blindly: after a timeout or a 5xx the submitter looks for
the job that carries its batch tag before submitting again.

``plan_batches`` is a pure function (servers + active jobs -> ordered chunks). ``RecoveryGroup``
drives one account/region: ``prepare()`` reads (source servers, jobs) and decides which servers
to launch, adopt or skip; ``execute()`` submits chunks as capacity allows and polls all jobs of
the group with one DescribeJobs per 100 job IDs; ``collect()`` builds the per-server results.
"""

import time
import uuid
from datetime import datetime
from datetime import timezone

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import waiting
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import AccountAccessError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import POLICY as RETRY_POLICY
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import THROTTLING_CODES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import describe_error
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import error_code
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import error_message
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import PRIORITY_RANK
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET_VALUE
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import ACTIVE_JOB_STATES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import DRSError
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import MAX_ACTIVE_JOBS
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import MAX_SERVERS_IN_ACTIVE_JOBS
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import MAX_SERVERS_PER_JOB
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_job_log_items
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_jobs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_recovery_instances
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_source_servers
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import source_hostname
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.ec2 import describe_instances

RUN_ID_TAG = "enterprise-dr:execution-id"
BATCH_ID_TAG = "enterprise-dr:batch-id"
DEFAULT_PRIORITY = "medium"

# After these, the job may or may not exist: look for it before submitting again.
UNCERTAIN_CODES = ("InternalServerException", "InternalServerError", "ServiceUnavailable",
                   "ServiceUnavailableException")
MAX_SUBMIT_ATTEMPTS = 8


class Limits:
    """DRS quotas per account and region (configurable: AWS has changed them before)."""

    def __init__(self, per_job=MAX_SERVERS_PER_JOB, active_jobs=MAX_ACTIVE_JOBS,
                 servers_in_active_jobs=MAX_SERVERS_IN_ACTIVE_JOBS):
        self.per_job = per_job
        self.active_jobs = active_jobs
        self.servers_in_active_jobs = servers_in_active_jobs


# ---------------------------------------------------------------------------------------------
# Pure planning
# ---------------------------------------------------------------------------------------------

# EC2 states of a recovery instance that no longer stands for a recovered server.
GONE_EC2_STATES = ("TERMINATED", "SHUTTING-DOWN", "NOT_FOUND", "terminated", "shutting-down")


def priority_rank(server):
    return PRIORITY_RANK.get((server.get("priority") or DEFAULT_PRIORITY).lower(), len(PRIORITY_RANK))


def order_by_priority(servers):
    """Critical first, then high, medium, low; input order inside a priority (the sort is stable)."""
    return sorted(servers, key=priority_rank)


def is_active(job):
    return job.get("status") in ACTIVE_JOB_STATES


def job_server_ids(job):
    return [p.get("sourceServerID") for p in job.get("participatingServers") or []]


def active_load(jobs):
    """(number of active jobs, number of servers in them)."""
    active = [j for j in jobs if is_active(j)]
    return len(active), sum(len(job_server_ids(j)) for j in active)


def next_chunk_size(active_jobs, active_servers, limits):
    """How many servers the next job may take now; 0 when a limit is reached."""
    if active_jobs >= limits.active_jobs:
        return 0
    return max(0, min(limits.per_job, limits.servers_in_active_jobs - active_servers))


def plan_batches(servers, active_jobs, limits=None):
    """Ordered chunks for ``servers`` given the jobs already running in their account and region.

    Returns a list of ``{"servers": [...], "starts": "now" | "when_capacity_frees"}``: servers in
    priority order, at most ``limits.per_job`` per chunk; chunks that fit beside the active jobs
    start now, the others wait for capacity (jobs finishing) before they are submitted.
    """
    limits = limits or Limits()
    queue = order_by_priority(servers)
    jobs, in_jobs = active_load(active_jobs)
    chunks = []
    while queue:
        size = next_chunk_size(jobs, in_jobs, limits)
        if size:
            chunk, queue = queue[:size], queue[size:]
            jobs += 1
            in_jobs += len(chunk)
            chunks.append({"servers": chunk, "starts": "now"})
        else:
            chunk, queue = queue[:limits.per_job], queue[limits.per_job:]
            chunks.append({"servers": chunk, "starts": "when_capacity_frees"})
    return chunks


def launch_kind_matches(job, drill):
    """True when ``job`` launches the same way (drill or recovery) as requested."""
    if job.get("type") not in (None, "LAUNCH"):
        return False
    initiated = job.get("initiatedBy")
    if initiated == "START_DRILL":
        return bool(drill)
    if initiated in ("START_RECOVERY", "FAILBACK"):
        return not drill
    return True


def classify(server_ids, jobs, source_servers, run_id, drill):
    """Decide, per server, whether to launch it, adopt a job already holding it, or skip it.

    ``jobs``: every job known in the account/region (active ones and this run's). Returns
    ``{server_id: {"action": launch|adopt|done|blocked, "job_id": ..., "reason": ...}}``.
    A server is ``done`` when one of this run's jobs launched it, ``adopt`` when an active launch
    job of the same kind holds it (its outcome is this run's), ``blocked`` when another kind of
    active job holds it (it is launched once that job ends). A server this run tried and failed
    is launched again.
    """
    run_jobs = {j["jobID"]: j for j in jobs if run_id and (j.get("tags") or {}).get(RUN_ID_TAG) == run_id}
    decisions = {}
    for sid in server_ids:
        holder = None
        for job in jobs:
            if is_active(job) and sid in job_server_ids(job):
                holder = job
                break
        if holder is not None:
            if holder["jobID"] in run_jobs or launch_kind_matches(holder, drill):
                decisions[sid] = {"action": "adopt", "job_id": holder["jobID"], "reason": "already in an active job"}
            else:
                decisions[sid] = {"action": "blocked", "job_id": holder["jobID"],
                                  "reason": f"held by active {holder.get('type', 'LAUNCH')} job {holder['jobID']}"}
            continue
        launched_by = None
        for job in sorted(run_jobs.values(), key=lambda j: j.get("creationDateTime") or "", reverse=True):
            for p in job.get("participatingServers") or []:
                if p.get("sourceServerID") == sid and p.get("launchStatus") == "LAUNCHED":
                    launched_by = job["jobID"]
                    break
            if launched_by:
                break
        if not launched_by:
            last = ((source_servers.get(sid) or {}).get("lifeCycle") or {}).get("lastLaunch") or {}
            last_job = (last.get("initiated") or {}).get("jobID")
            if last_job in run_jobs and last.get("status") == "LAUNCHED":
                launched_by = last_job
        if launched_by:
            decisions[sid] = {"action": "done", "job_id": launched_by, "reason": "already launched by this run"}
        else:
            decisions[sid] = {"action": "launch", "job_id": None, "reason": None}
    return decisions


def failure_events(log_items, server_id):
    """rawError texts the job log holds for ``server_id`` (LAUNCH_FAILED, *_FAIL, SERVER_SKIPPED)."""
    errors = []
    for item in log_items:
        event = item.get("event") or ""
        data = item.get("eventData") or {}
        if data.get("sourceServerID") != server_id:
            continue
        if event.endswith(("_FAIL", "_FAILED")) or event == "SERVER_SKIPPED":
            errors.append(data.get("rawError") or event)
    return errors


def iso_now(clock=time.time, delta_seconds=0):
    moment = datetime.fromtimestamp(clock() + delta_seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunks(values, size):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def account_from_arn(arn):
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 else None


# ---------------------------------------------------------------------------------------------
# One account and region
# ---------------------------------------------------------------------------------------------

class RecoveryGroup:
    """Launches the servers of one account and region and reports on them.

    ``drs``: a DRS client of the ClientFactory. Its retry policy resends StartRecovery only after
    throttling (nothing was started); after a 5xx or a timeout ``_submit`` looks for the job first.
    ``drs_submit`` (default ``drs``) is the client StartRecovery goes through.
    """

    def __init__(self, drs, drs_submit, ec2, account_id, region, servers, run_id, drill,
                 limits=None, poll_interval=30, deadline=None, lookback_hours=48,
                 sleep=time.sleep, clock=time.time, extra_tags=None):
        self.drs = drs
        self.drs_submit = drs_submit or drs
        self.ec2 = ec2
        self.account_id = account_id
        self.region = region
        self.servers = servers
        self.by_id = {s["source_server_id"]: s for s in servers}
        self.run_id = run_id
        self.drill = drill
        self.limits = limits or Limits()
        self.poll_interval = poll_interval
        self.deadline = deadline
        self.lookback_hours = lookback_hours
        self.sleep = sleep
        self.clock = clock
        self.extra_tags = dict(extra_tags or {})
        self.source_servers = {}
        self.jobs = {}  # every job this group knows and follows, by ID
        self.decisions = {}
        self.assignment = {}  # server ID -> job ID holding its launch for this run
        self.started_jobs = []  # IDs of the jobs this call started
        self.failed = {}  # server ID -> error for servers refused at submission
        self.blocked = {}  # server ID -> job ID it waits for
        self.plan = []
        self.timed_out = False
        self.expected_targets = {}  # server ID -> launch-into target, when known before the launch
        self.marked_volumes = []

    # -- reads -------------------------------------------------------------------------------

    def _recent_jobs(self):
        since = iso_now(self.clock, -self.lookback_hours * 3600)
        return describe_jobs(self.drs, from_date=since)

    def prepare(self):
        """Read source servers and jobs; decide per server. Makes no change."""
        ids = list(self.by_id)
        found = describe_source_servers(self.drs, source_server_ids=ids)
        self.source_servers = {s["sourceServerID"]: s for s in found}
        missing = [sid for sid in ids if sid not in self.source_servers]
        if missing:
            raise DRSError(
                f"source servers not found in DRS of account {self.account_id or 'default'} "
                f"region {self.region}: {', '.join(sorted(missing))}",
                resource=",".join(sorted(missing)),
                remediation="check the source server IDs, their account_id and region",
            )
        if not self.account_id:
            self.account_id = account_from_arn(next(iter(self.source_servers.values())).get("arn"))
        jobs = {j["jobID"]: j for j in self._recent_jobs()}
        # Jobs named by the servers' last launch may be older than the lookback window.
        last_ids = set()
        for server in self.source_servers.values():
            job_id = (((server.get("lifeCycle") or {}).get("lastLaunch") or {}).get("initiated") or {}).get("jobID")
            if job_id and job_id not in jobs:
                last_ids.add(job_id)
        if last_ids:
            jobs.update({j["jobID"]: j for j in describe_jobs(self.drs, job_ids=sorted(last_ids))})
        self.decisions = classify(ids, list(jobs.values()), self.source_servers, self.run_id, self.drill)
        self._adopt_earlier_recoveries(jobs)
        for sid, decision in self.decisions.items():
            if decision["action"] in ("adopt", "done"):
                self.assignment[sid] = decision["job_id"]
            elif decision["action"] == "blocked":
                self.blocked[sid] = decision["job_id"]
        # Follow: active jobs (they count against the quotas) and the jobs holding our servers.
        followed = {j for j in jobs if is_active(jobs[j])} | set(self.assignment.values()) | set(self.blocked.values())
        self.jobs = {j: jobs[j] for j in followed}
        to_launch = [self.by_id[sid] for sid in ids if self.decisions[sid]["action"] in ("launch", "blocked")]
        self.plan = plan_batches(to_launch, list(self.jobs.values()), self.limits)
        return self.plan

    def _adopt_earlier_recoveries(self, jobs):
        """Never launch a server twice: a server that an earlier run already recovered (of the same kind,
        drill or not) and whose recovery instance still exists is ``done``, not launched again.

        StartRecovery has no client token and a re-run may carry a new run ID (for example after the first
        run finished), so the recovery instances themselves are the proof. A drill cleaned up by
        drs_recovery_instance leaves no recovery instance, so the next drill launches again.
        """
        candidates = [sid for sid, d in self.decisions.items() if d["action"] == "launch"]
        if not candidates:
            return
        latest = {}
        for item in describe_recovery_instances(self.drs, source_server_ids=candidates):
            if bool(item.get("isDrill")) != bool(self.drill) or item.get("ec2InstanceState") in GONE_EC2_STATES:
                continue
            known = latest.get(item.get("sourceServerID"))
            moment = item.get("pointInTimeSnapshotDateTime") or ""
            if known is None or moment > (known.get("pointInTimeSnapshotDateTime") or ""):
                latest[item.get("sourceServerID")] = item
        missing = sorted({i.get("jobID") for i in latest.values() if i.get("jobID") and i.get("jobID") not in jobs})
        if missing:
            jobs.update({j["jobID"]: j for j in describe_jobs(self.drs, job_ids=missing)})
        for sid, item in latest.items():
            job_id = item.get("jobID")
            if job_id in jobs:
                self.decisions[sid] = {
                    "action": "done", "job_id": job_id,
                    "reason": f"already recovered as {item.get('recoveryInstanceID')} by job {job_id} "
                              "of an earlier run",
                }

    def scope_items(self):
        """(resource name, the server's own DRS tags) for the scope guard."""
        for sid in self.by_id:
            server = self.source_servers.get(sid) or {}
            yield server.get("arn") or sid, server.get("tags") or {}

    def mark_targets(self, get_launch_configuration=None):
        """Learn the launch-into target of every server to launch and tag the target's current volumes."""
        for sid in self.to_launch():
            target = self.by_id[sid].get("target_instance_id")
            if target is None and get_launch_configuration is not None:
                config = get_launch_configuration(sid) or {}
                target = (config.get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID")
            if target:
                self.expected_targets[sid] = target
        if self.expected_targets:
            self.marked_volumes = mark_original_volumes(self.ec2, self.expected_targets.values(), self.run_id)
        return self.expected_targets

    def to_launch(self):
        return [sid for sid, d in self.decisions.items() if d["action"] in ("launch", "blocked")]

    # -- submission ----------------------------------------------------------------------------

    def _submit(self, chunk):
        """StartRecovery for ``chunk`` (server IDs). Returns (job or None, outcome, error)."""
        batch_id = uuid.uuid4().hex
        tags = dict(self.extra_tags)
        tags[RUN_ID_TAG] = self.run_id
        tags[BATCH_ID_TAG] = batch_id
        submitted_at = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.drs_submit.start_recovery(
                    sourceServers=[{"sourceServerID": sid} for sid in chunk], isDrill=bool(self.drill), tags=tags,
                )
                return response["job"], "started", None
            except ClientError as e:
                code = error_code(e)
                if code in THROTTLING_CODES:
                    # The client's retry policy already resent it as long as it allows: give up here.
                    return None, "error", e
                if code == "ServiceQuotaExceededException":
                    return None, "quota", e
                if code == "ConflictException":
                    return None, "conflict", e
                if code not in UNCERTAIN_CODES:
                    return None, "error", e
                uncertain = e
            except BotoCoreError as e:  # timeouts, connection resets: the job may exist
                uncertain = e
            job = self._find_batch_job(batch_id, submitted_at)
            if job is not None:
                return job, "found", None
            if attempt >= MAX_SUBMIT_ATTEMPTS:
                return None, "error", uncertain
            RETRY_POLICY.sleep(attempt, sleep=self.sleep)

    def _find_batch_job(self, batch_id, since):
        for job in describe_jobs(self.drs, from_date=iso_now(lambda: since, -120)):
            if (job.get("tags") or {}).get(BATCH_ID_TAG) == batch_id:
                return job
        return None

    def _refresh_active(self):
        """Re-read recent jobs (others may have started some); follow the active ones."""
        for job in self._recent_jobs():
            if is_active(job) or job["jobID"] in self.jobs:
                self.jobs[job["jobID"]] = job

    def _holder(self, sid):
        for job in self.jobs.values():
            if is_active(job) and sid in job_server_ids(job):
                return job
        return None

    def _on_conflict(self, chunk, error, queue_front):
        """A ConflictException: find which job holds which server, adopt ours, isolate the rest."""
        self._refresh_active()
        free = []
        for sid in chunk:
            holder = self._holder(sid)
            if holder is None:
                free.append(sid)
            elif (holder.get("tags") or {}).get(RUN_ID_TAG) == self.run_id or launch_kind_matches(holder, self.drill):
                self.assignment[sid] = holder["jobID"]
            else:
                self.blocked[sid] = holder["jobID"]
        if not free:
            return
        if len(free) < len(chunk):
            queue_front.append(free)
            return
        # No job holds these servers: the conflict is about one of them (a running launch-into
        # target, for example). Name it from the error if DRS did, else split to find it.
        message = error_message(error)
        response = getattr(error, "response", None) or {}
        resource = response.get("resourceId") or ""
        culprits = []
        for sid in free:
            names = [sid, self.by_id[sid].get("target_instance_id")]
            if any(name and (name == resource or name in message) for name in names):
                culprits.append(sid)
        if len(free) == 1:
            culprits = free
        if culprits:
            for sid in culprits:
                self.failed[sid] = f"StartRecovery refused: {message}"
            rest = [sid for sid in free if sid not in culprits]
            if rest:
                queue_front.append(rest)
            return
        half = len(free) // 2
        queue_front.extend([free[:half], free[half:]])

    # -- the loop ------------------------------------------------------------------------------

    def _poll(self):
        followed = [j for j, job in self.jobs.items() if is_active(job)]
        if not followed:
            return
        for job in describe_jobs(self.drs, job_ids=followed):
            self.jobs[job["jobID"]] = job

    def _our_jobs_active(self):
        ours = set(self.assignment.values()) | set(self.blocked.values())
        return [j for j in ours if j in self.jobs and is_active(self.jobs[j])]

    def _check_deadline(self):
        if self.deadline is not None and self.clock() >= self.deadline:
            self.timed_out = True
            return True
        return False

    def execute(self, wait=True):
        """Submit every server not yet in a job of this run, as capacity allows; poll until done.

        With ``wait=False`` returns once every server is in a job (it still waits for capacity
        when the quotas do not let every chunk start at once).
        """
        queue = [s["source_server_id"] for s in order_by_priority(self.servers)
                 if s["source_server_id"] in self.to_launch()]
        forced = []  # chunks re-queued after a conflict, sent before the rest
        pauses = waiting.Poll(None if self.deadline is None else self.deadline - self.clock(), self.poll_interval,
                              sleep=self.sleep, clock=self.clock)
        while True:
            # Servers waiting for another kind of job go back to the queue once it has ended.
            for sid, job_id in list(self.blocked.items()):
                job = self.jobs.get(job_id)
                if job is None or not is_active(job):
                    del self.blocked[sid]
            pending = [sid for sid in queue
                       if sid not in self.assignment and sid not in self.failed and sid not in self.blocked]
            at_limit = False
            while (forced or pending) and not at_limit:
                count, in_jobs = active_load(self.jobs.values())
                size = next_chunk_size(count, in_jobs, self.limits)
                if not size:
                    break
                if forced:
                    chunk = forced.pop(0)
                    if len(chunk) > size:
                        forced.insert(0, chunk[size:])
                        chunk = chunk[:size]
                else:
                    chunk, pending = pending[:size], pending[size:]
                chunk = [sid for sid in chunk if sid not in self.assignment and sid not in self.failed]
                if not chunk:
                    continue
                job, outcome, error = self._submit(chunk)
                if job is not None:
                    self.jobs[job["jobID"]] = job
                    self.started_jobs.append(job["jobID"])
                    for sid in chunk:
                        self.assignment[sid] = job["jobID"]
                elif outcome == "quota":
                    # Someone else filled the quota: recount and wait for capacity.
                    self._refresh_active()
                    forced.insert(0, chunk)
                    at_limit = True
                elif outcome == "conflict":
                    self._on_conflict(chunk, error, forced)
                else:
                    for sid in chunk:
                        self.failed[sid] = f"StartRecovery failed: {describe_error(error)}"
                pending = [sid for sid in pending if sid not in self.assignment and sid not in self.failed]
            remaining = [sid for sid in queue if sid not in self.assignment and sid not in self.failed]
            if not remaining and not forced and (not wait or not self._our_jobs_active()):
                return
            if self._check_deadline():
                return
            pauses.pause()
            self._poll()

    # -- results -------------------------------------------------------------------------------

    def unfinished(self):
        out = []
        for s in self.servers:
            sid = s["source_server_id"]
            job = self.jobs.get(self.assignment.get(sid))
            if sid in self.failed:
                continue
            if job is None or is_active(job):
                out.append(sid)
        return out

    def _participation(self, sid):
        job = self.jobs.get(self.assignment.get(sid))
        if not job:
            return None, {}
        for p in job.get("participatingServers") or []:
            if p.get("sourceServerID") == sid:
                return job, p
        return job, {}

    def collect(self, get_launch_configuration=None):
        """Per-server results and the job summaries of this group."""
        # Jobs holding servers adopted as done may be missing (not followed): read them.
        missing = [j for j in set(self.assignment.values()) if j not in self.jobs]
        if missing:
            self.jobs.update({j["jobID"]: j for j in describe_jobs(self.drs, job_ids=missing)})
        launched = []
        for sid in self.by_id:
            _job, part = self._participation(sid)
            if part.get("launchStatus") == "LAUNCHED":
                launched.append(sid)
        instances = {}
        if launched:
            for ri in describe_recovery_instances(self.drs, source_server_ids=launched):
                job_id = self.assignment.get(ri.get("sourceServerID"))
                current = instances.get(ri.get("sourceServerID"))
                if current is None or ri.get("jobID") == job_id:
                    instances[ri.get("sourceServerID")] = ri
        ec2_ids = [ri.get("ec2InstanceID") for ri in instances.values() if ri.get("ec2InstanceID")]
        ec2_info = describe_instances(self.ec2, ec2_ids)
        logs = {}
        results = []
        for s in self.servers:
            sid = s["source_server_id"]
            job, part = self._participation(sid)
            status = part.get("launchStatus") if job else None
            ri = instances.get(sid) or {}
            ec2_id = ri.get("ec2InstanceID") if status == "LAUNCHED" else None
            instance = ec2_info.get(ec2_id) or {}
            expected = s.get("target_instance_id") or self.expected_targets.get(sid)
            if expected is None and status == "LAUNCHED" and get_launch_configuration is not None:
                config = get_launch_configuration(sid) or {}
                expected = (config.get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID")
            raw_error = self.failed.get(sid)
            if status == "FAILED" and raw_error is None:
                if job["jobID"] not in logs:
                    logs[job["jobID"]] = describe_job_log_items(self.drs, job["jobID"])
                errors = failure_events(logs[job["jobID"]], sid)
                raw_error = errors[-1] if errors else "launch FAILED; the job log holds no error for this server"
            if sid in self.failed:
                status = "FAILED"
            decision = self.decisions.get(sid) or {}
            results.append({
                "source_server_id": sid,
                "hostname": s.get("hostname") or source_hostname(self.source_servers.get(sid) or {}),
                "account_id": self.account_id,
                "region": self.region,
                "priority": s.get("priority") or DEFAULT_PRIORITY,
                "job_id": job["jobID"] if job else None,
                "launch_status": status or ("NOT_STARTED" if sid not in self.assignment else "PENDING"),
                "recovery_instance_id": ri.get("recoveryInstanceID") if status == "LAUNCHED" else part.get(
                    "recoveryInstanceID"),
                "ec2_instance_id": ec2_id,
                "ec2_state": (instance.get("State") or {}).get("Name"),
                "private_ip": instance.get("PrivateIpAddress"),
                "expected_target_instance_id": expected,
                "launched_into_target": (ec2_id == expected) if (expected and status == "LAUNCHED") else None,
                # RPO inputs (docs/reports.md): the data's point in time against the launch request.
                "recovery_point_time": ri.get("pointInTimeSnapshotDateTime") if status == "LAUNCHED" else None,
                "recovery_started_at": job.get("creationDateTime") if job else None,
                "action": decision.get("action"),
                "already_handled": decision.get("action") in ("adopt", "done"),
                "raw_error": raw_error,
            })
        return results

    def job_summaries(self):
        ours = set(self.assignment.values())
        out = []
        for job_id in sorted(ours, key=lambda j: (self.jobs.get(j) or {}).get("creationDateTime") or ""):
            job = self.jobs.get(job_id) or {}
            out.append({
                "job_id": job_id,
                "account_id": self.account_id,
                "region": self.region,
                "status": job.get("status"),
                "type": job.get("type"),
                "initiated_by": job.get("initiatedBy"),
                "servers": len(job_server_ids(job)),
                "started_by_this_task": job_id in self.started_jobs,
                "creation_date_time": job.get("creationDateTime"),
                "end_date_time": job.get("endDateTime"),
                "tags": dict(job.get("tags") or {}),
            })
        return out

    def plan_summary(self):
        chunks = []
        for index, chunk in enumerate(self.plan, start=1):
            chunks.append({
                "order": index,
                "account_id": self.account_id,
                "region": self.region,
                "starts": chunk["starts"],
                "source_server_ids": [s["source_server_id"] for s in chunk["servers"]],
            })
        skipped = [{"source_server_id": sid, "job_id": d["job_id"], "reason": d["reason"]}
                   for sid, d in self.decisions.items() if d["action"] in ("adopt", "done")]
        return chunks, skipped


def is_launch_into_target(instance, launch_into_id=None):
    """True when an EC2 instance is a pre-provisioned launch-into target (never to terminate)."""
    tags = {t["Key"]: t["Value"] for t in (instance or {}).get("Tags", [])}
    if tags.get(TAG_DRS_TARGET) == TAG_DRS_TARGET_VALUE:
        return True
    return bool(launch_into_id) and (instance or {}).get("InstanceId") == launch_into_id


def wait_for_jobs(drs, job_ids, poll_interval, deadline, sleep=time.sleep, clock=time.time):
    """Poll ``job_ids`` (one DescribeJobs per 100 IDs) until none is active or the deadline passes.

    Returns ``(jobs_by_id, finished)``.
    """
    jobs = {}
    pending = list(job_ids)

    def check():
        for job in describe_jobs(drs, job_ids=pending):
            jobs[job["jobID"]] = job
        pending[:] = [j for j in job_ids if j not in jobs or is_active(jobs[j])]
        return not pending

    _done, finished = waiting.until(check, None if deadline is None else deadline - clock(), poll_interval,
                                    sleep=sleep, clock=clock)
    return jobs, finished


def new_run_deadline(wait_timeout, clock=time.time):
    return clock() + wait_timeout if wait_timeout else None


def read_launch_configuration(client, source_server_id):
    """GetLaunchConfiguration of one source server."""
    config = client.get_launch_configuration(sourceServerID=source_server_id)
    config.pop("ResponseMetadata", None)
    return config


def summarize_results(servers, jobs_started=0):
    """Counts over per-server results."""
    statuses = [s.get("launch_status") for s in servers]
    return {
        "total": len(servers),
        "launched": statuses.count("LAUNCHED"),
        "failed": statuses.count("FAILED"),
        "in_progress": sum(1 for s in statuses if s in ("PENDING", "IN_PROGRESS")),
        "not_started": sum(1 for s in statuses if s in ("NOT_STARTED", "UNKNOWN", None)),
        "already_handled": sum(1 for s in servers if s.get("already_handled")),
        "launched_into_target": sum(1 for s in servers if s.get("launched_into_target")),
        "jobs_started": jobs_started,
    }


# ---------------------------------------------------------------------------------------------
# Read-only summaries shared by the info modules and the cleanup module
# ---------------------------------------------------------------------------------------------

def read_locations(params, default_region=None):
    """(account_id, region) pairs to read: ``account_ids`` x ``regions``, defaulting like the other info modules."""
    regions = params.get("regions") or [default_region or params.get("region")]
    account_ids = params.get("account_ids")
    if not account_ids:
        account_ids = [a["account_id"] for a in params.get("accounts") or []] or [None]
    return [(a, r) for a in dict.fromkeys(account_ids) for r in dict.fromkeys(regions)]


class LocationReadError(Exception):
    """Reading one account and region failed; carries the original error for ``fail_json_aws``."""

    def __init__(self, location, error):
        super().__init__(f"account {location[0] or '(module credentials)'}, region {location[1]}: {error}")
        self.location = location
        self.error = error


def read_each_location(module, locations, read, what):
    """``read(account_id, region)`` for every location, concurrently, concatenated in location order.

    The info modules' one way of reading many accounts and regions: the first location that cannot be
    read fails the module with a message naming the account, the region and the fix.
    """

    def guarded(location):
        try:
            return read(*location)
        except (AccountAccessError, ClientError, BotoCoreError) as e:
            raise LocationReadError(location, e) from e

    try:
        found = run_concurrently(guarded, locations)
    except LocationReadError as e:
        account_id, region = e.location
        where = f"account {account_id or '(module credentials)'}, region {region}"
        if isinstance(e.error, AccountAccessError):
            module.fail_json(msg=f"Could not reach {where}: {e.error.reason}. Fix: check the account's role_arn, "
                                 "external_id or profile in accounts")
        if error_code(e.error) == "UninitializedAccountException":
            module.fail_json_aws(e.error, msg=f"DRS is not initialized in {where}. Fix: initialize the service "
                                              "there (drs initialize-service) or drop it from accounts/regions")
        module.fail_json_aws(e.error, msg=f"Could not read {what} in {where}")
    return [item for location in locations for item in found[location]]


def job_summary(job, account_id, region, log_items=None):
    """A snake_case DescribeJobs item."""
    summary = {
        "job_id": job.get("jobID"),
        "arn": job.get("arn"),
        "account_id": account_id or account_from_arn(job.get("arn")),
        "region": region,
        "type": job.get("type"),
        "initiated_by": job.get("initiatedBy"),
        "status": job.get("status"),
        "creation_date_time": job.get("creationDateTime"),
        "end_date_time": job.get("endDateTime"),
        "tags": dict(job.get("tags") or {}),
        "run_id": (job.get("tags") or {}).get(RUN_ID_TAG),
        "participating_servers": [{
            "source_server_id": p.get("sourceServerID"),
            "recovery_instance_id": p.get("recoveryInstanceID"),
            "launch_status": p.get("launchStatus"),
        } for p in job.get("participatingServers") or []],
    }
    statuses = [p["launch_status"] for p in summary["participating_servers"]]
    summary["servers"] = len(statuses)
    summary["launched"] = statuses.count("LAUNCHED")
    summary["failed"] = statuses.count("FAILED")
    if log_items is not None:
        summary["log_items"] = [{
            "log_date_time": item.get("logDateTime"),
            "event": item.get("event"),
            "source_server_id": (item.get("eventData") or {}).get("sourceServerID"),
            "target_instance_id": (item.get("eventData") or {}).get("targetInstanceID"),
            "conversion_server_id": (item.get("eventData") or {}).get("conversionServerID"),
            "raw_error": (item.get("eventData") or {}).get("rawError"),
        } for item in log_items]
    return summary


def recovery_instance_summary(ri, instance, account_id, region):
    """A snake_case recovery instance with its EC2 facts (``instance``: DescribeInstances item or None)."""
    instance = instance or {}
    tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
    failback = ri.get("failback") or {}
    replication = ri.get("dataReplicationInfo") or {}
    return {
        "recovery_instance_id": ri.get("recoveryInstanceID"),
        "arn": ri.get("arn"),
        "account_id": account_id or account_from_arn(ri.get("arn")),
        "region": region,
        "source_server_id": ri.get("sourceServerID"),
        "job_id": ri.get("jobID"),
        "is_drill": ri.get("isDrill"),
        "ec2_instance_id": ri.get("ec2InstanceID"),
        "ec2_instance_state": ri.get("ec2InstanceState"),
        "ec2_state": (instance.get("State") or {}).get("Name") if instance else None,
        "private_ip": instance.get("PrivateIpAddress"),
        "instance_type": instance.get("InstanceType"),
        "launch_into_target": tags.get(TAG_DRS_TARGET) == TAG_DRS_TARGET_VALUE,
        "ec2_tags": tags,
        "point_in_time_snapshot_date_time": ri.get("pointInTimeSnapshotDateTime"),
        "origin_environment": ri.get("originEnvironment"),
        "origin_availability_zone": ri.get("originAvailabilityZone"),
        "failback_state": failback.get("state"),
        "failback_launch_type": failback.get("failbackLaunchType"),
        "data_replication_state": replication.get("dataReplicationState"),
        "volume_ids": [d.get("ebsVolumeID") for d in (ri.get("recoveryInstanceProperties") or {}).get("disks") or []
                       if d.get("ebsVolumeID")],
        "tags": dict(ri.get("tags") or {}),
    }


# ---------------------------------------------------------------------------------------------
# Launch-into targets: their original volumes, stopped targets, left-behind volumes
# ---------------------------------------------------------------------------------------------

ORIGINAL_VOLUME_TAG = "enterprise-dr:launch-into-original-of"
DRS_MANAGED_TAG = "AWSElasticDisasterRecoveryManaged"
DRS_SOURCE_SERVER_TAG = "AWSElasticDisasterRecoverySourceServerID"


def volumes(ec2, filters):
    """Every DescribeVolumes item matching ``filters``."""
    items = []
    token = None
    while True:
        params = {"Filters": filters}
        if token:
            params["NextToken"] = token
        page = ec2.describe_volumes(**params)
        items.extend(page.get("Volumes", []))
        token = page.get("NextToken")
        if not token:
            return items


def mark_original_volumes(ec2, target_ids, run_id):
    """Tag the volumes attached to launch-into targets before a launch swaps them out.

    DRS detaches a target's volumes and leaves them behind; the tag is how the cleanup recognises
    them later (``enterprise-dr:launch-into-original-of=<instance ID>``). Returns the volume IDs tagged.
    """
    tagged = []
    ids = sorted(set(t for t in target_ids if t))
    by_instance = {}
    for batch in _chunks(ids, 200):
        for volume in volumes(ec2, [{"Name": "attachment.instance-id", "Values": batch}]):
            tags = {t["Key"]: t["Value"] for t in volume.get("Tags", [])}
            if ORIGINAL_VOLUME_TAG in tags or DRS_MANAGED_TAG in tags:
                continue  # already marked, or a DRS-recovered volume of an earlier launch
            for attachment in volume.get("Attachments", []):
                by_instance.setdefault(attachment["InstanceId"], []).append(volume["VolumeId"])
    for instance_id, volume_ids in by_instance.items():
        ec2.create_tags(Resources=volume_ids, Tags=[
            {"Key": ORIGINAL_VOLUME_TAG, "Value": instance_id}, {"Key": RUN_ID_TAG, "Value": run_id}])
        tagged.extend(volume_ids)
    return tagged


def left_behind_volumes(ec2, target_id, source_server_id):
    """Detached volumes a launch into ``target_id`` left: its marked originals and earlier DRS volumes."""
    found = {}
    for filters in ([{"Name": f"tag:{ORIGINAL_VOLUME_TAG}", "Values": [target_id]}],
                    [{"Name": f"tag:{DRS_SOURCE_SERVER_TAG}", "Values": [source_server_id]}]):
        for volume in volumes(ec2, filters + [{"Name": "status", "Values": ["available"]}]):
            found[volume["VolumeId"]] = volume
    return sorted(found)


def wait_for_instance_state(ec2, instance_ids, state, poll_interval, deadline, sleep=time.sleep, clock=time.time):
    """Poll until every instance is in ``state``; returns the IDs that are not."""
    pending = list(instance_ids)

    def check():
        if pending:
            info = describe_instances(ec2, pending)
            pending[:] = [i for i in pending if i in info and (info[i].get("State") or {}).get("Name") != state]
        return not pending

    waiting.until(check, None if deadline is None else deadline - clock(), poll_interval, sleep=sleep, clock=clock)
    return pending
