# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution record: one per failover, drill or failback run (docs/execution_record.md).

The record is what operators watch, what auditors read, what failback reads to undo a failover,
and what a re-run reads to resume. It lives in one of two stores behind one interface:

- ``DynamoDBStore``: a table in the hub account. Every run is one partition (``execution_id``):
  the header item (``record_key = "record"``) holds scope, status, phases, waves, approvals and
  errors; every resource is its own item (``record_key = "resource#<id>"``), so 1,000 servers
  never come near DynamoDB's 400 KB item limit. Each scope (customer + environment) has a lock
  item naming its active run. Every write is conditional on a ``version`` attribute, so two
  writers never lose each other's updates: the loser re-reads, re-merges and writes again.
- ``FileStore``: JSON files in a directory for air-gapped runs, written by atomic rename under an
  exclusive file lock, with the same versioning and lock semantics.

Stores implement a handful of primitives (load/save with an expected version, the scope lock,
queries); everything else - merging, resume, approvals, progress and RTO figures - lives here once.
"""

import copy
import datetime
import fcntl
import getpass
import json
import os
import re
import secrets
import tempfile
import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule / the callback's own check

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import waiting

SCHEMA_VERSION = 1
DEFAULT_TABLE_NAME = "enterprise-dr-executions"
DEFAULT_STORE_PATH = "~/.ansible/enterprise_dr/executions"
CUSTOMER_INDEX = "customer-started_at-index"
RECORD_KEY = "record"
LOCK_KEY = "lock"
RESOURCE_PREFIX = "resource#"
ALL_ENVIRONMENTS = "_all"

OPERATIONS = ("failover", "drill", "failback")
STATUSES = ("running", "waiting_approval", "succeeded", "failed", "cancelled", "interrupted")
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")
ACTIVE_STATUSES = ("running", "waiting_approval", "interrupted")
STEP_STATUSES = ("pending", "running", "succeeded", "failed", "skipped", "cancelled")
STEP_TERMINAL = ("succeeded", "failed", "skipped", "cancelled")
DECISIONS = ("approve", "cancel")
APPROVAL_MODES = ("required", "automatic", "record", "awx_workflow")
MAX_ERRORS_IN_RECORD = 500
MAX_CONFLICT_RETRIES = 20
ORPHAN_LOCK_SECONDS = 300

# Fields a resource entry may carry besides the free-form before/after/details dictionaries.
RESOURCE_SCALARS = (
    "name", "technology", "account_id", "region", "wave", "priority", "phase", "status",
    "started_at", "ended_at", "recovery_seconds", "rto_target_minutes", "rpo_target_minutes",
    "replication_lag_seconds", "match_score", "error", "remediation", "summary",
)


class ExecutionError(Exception):
    """Base class: every message says what failed and what to do."""


class RecordNotFound(ExecutionError):
    def __init__(self, execution_id):
        super().__init__(
            f"execution {execution_id} is not in the execution store; check the ID "
            "(playbooks/history.yml lists the recent ones) and the store options (store, table_name, store_path)"
        )
        self.execution_id = execution_id


class ActiveRunError(ExecutionError):
    """Another run holds the scope: the message names it."""

    def __init__(self, active, customer, environment, held_environment=False):
        scope = f"{customer}/{environment or 'all environments'}"
        if held_environment is not False:  # a run of an overlapping scope (one of them covers every environment)
            scope = f"{customer}/{held_environment or 'all environments'}, which overlaps {scope}"
        status = active.get("status", "unknown")
        super().__init__(
            f"execution {active['execution_id']} ({active.get('operation')}, status {status}, started "
            f"{active.get('started_at')} by {active.get('started_by')}) is still active for {scope}; "
            f"resume it, wait for it to finish, or cancel it with "
            f"'ansible-playbook playbooks/approve.yml -e execution_id={active['execution_id']} -e decision=cancel' "
            "(or execution_record action=finish status=cancelled) before starting another run"
        )
        self.active = active


class ConflictError(ExecutionError):
    """A conditional write lost against a concurrent writer (the version moved on)."""

    def __init__(self, item, expected_version):
        super().__init__(
            f"{item} was changed by another writer (expected version {expected_version}); re-read and retry")
        self.item = item
        self.expected_version = expected_version


class LockHeld(ExecutionError):
    def __init__(self, holder):
        super().__init__(f"scope lock held by {holder.get('holder')}")
        self.holder = holder


class InvalidTransition(ExecutionError):
    pass


class StoreUnavailable(ExecutionError):
    """The store could not be reached (network, permissions, missing table or directory)."""


# ---------------------------------------------------------------------------------------------------------------------
# Time and identity

def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value):
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    text = str(value).strip().replace("Z", "+00:00")
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def seconds_between(start, end):
    start, end = parse_time(start), parse_time(end)
    if start is None or end is None:
        return None
    return int((end - start).total_seconds())


def _slug(value):
    slug = re.sub(r"[^a-z0-9]+", "-", str(value).strip().lower()).strip("-")
    return slug[:40] or "unknown"


def new_execution_id(customer, now=None):
    """``edr-<customer>-<UTC yyyymmddThhmmss>-<6 hex>``: sortable by time within a customer, unique."""
    moment = now or utcnow()
    stamp = moment.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"edr-{_slug(customer)}-{stamp}-{secrets.token_hex(3)}"


def resolve_started_by(explicit=None, awx_user_name=None, tower_user_name=None):
    """The AWX user when run from AWX, else the explicit value, else the OS user."""
    for candidate in (awx_user_name, tower_user_name, explicit):
        if candidate and str(candidate).strip():
            return str(candidate).strip()
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers)
        return os.environ.get("USER") or f"uid-{os.getuid()}"


def scope_key(customer, environment=None):
    return f"{_norm(customer)}#{_norm(environment) or ALL_ENVIRONMENTS}"


def _norm(value):
    return (value or "").strip().lower()


def split_scope_key(key):
    """(customer, environment or None) of a scope key."""
    customer, _sep, environment = key.partition("#")
    return customer, (None if environment == ALL_ENVIRONMENTS else environment)


def scopes_overlap(key_a, key_b):
    """Two scopes of one customer overlap when they are the same or either covers every environment."""
    customer_a, environment_a = split_scope_key(key_a)
    customer_b, environment_b = split_scope_key(key_b)
    return customer_a == customer_b and (environment_a == environment_b or None in (environment_a, environment_b))


def resource_key(entry):
    key = entry.get("resource") or entry.get("arn") or entry.get("name")
    if not key or not str(key).strip():
        raise ExecutionError(
            f"resource entry {entry!r} has no 'resource' key; give each entry the resource's ARN or ID as 'resource'"
        )
    return str(key).strip()


# ---------------------------------------------------------------------------------------------------------------------
# Pure merge logic (shared by both stores, by check mode and by the callback)

def new_record(customer, environment, operation, started_by, details=None, execution_id=None, now=None):
    if operation not in OPERATIONS:
        raise ExecutionError(f"operation {operation!r} is not one of {', '.join(OPERATIONS)}")
    if not customer or not str(customer).strip():
        raise ExecutionError("customer is required to start an execution")
    moment = now or utcnow()
    return {
        "schema_version": SCHEMA_VERSION,
        "execution_id": execution_id or new_execution_id(customer, moment),
        "customer": customer,
        "environment": environment or None,
        "operation": operation,
        "status": "running",
        "started_by": started_by,
        "started_at": iso(moment),
        "updated_at": iso(moment),
        "ended_at": None,
        "current_phase": None,
        "current_wave": None,
        "phases": {},
        "waves": {},
        "approvals": [],
        "pending_gate": None,
        "errors": [],
        "resumptions": [],
        "details": dict(details or {}),
        "version": 0,
    }


def _merge_step(existing, change, now):
    """Merge a phase or wave entry: times are kept (first start, last end), durations computed."""
    step = dict(existing or {})
    for key, value in change.items():
        if value is None:
            continue
        if key == "started_at" and step.get("started_at"):
            continue
        step[key] = value
    status = step.get("status")
    if status and status != "pending" and not step.get("started_at"):
        step["started_at"] = iso(now)
    if status in STEP_TERMINAL and not change.get("ended_at") and (existing or {}).get("status") != status:
        step["ended_at"] = iso(now)
    if status == "running":
        step["ended_at"] = None
    step["duration_seconds"] = seconds_between(step.get("started_at"), step.get("ended_at"))
    return step


def _error_entry(error, now, record):
    if isinstance(error, str):
        error = {"message": error}
    entry = {k: v for k, v in dict(error).items() if v is not None}
    if not entry.get("message"):
        raise ExecutionError(f"error entry {error!r} has no 'message'")
    entry.setdefault("at", iso(now))
    entry.setdefault("phase", record.get("current_phase"))
    if record.get("current_wave") is not None:
        entry.setdefault("wave", record.get("current_wave"))
    return entry


def _same_error(a, b):
    keys = ("message", "resource", "phase", "wave", "remediation")
    return all(a.get(k) == b.get(k) for k in keys)


def wave_key(phase, wave):
    return f"{phase or 'NONE'}/{wave}"


def merge_record(record, changes, now=None):
    """Return a new record with ``changes`` merged in (phase, wave, errors, status, details, current).

    ``changes`` keys: ``status``, ``phase`` (dict with name/status/...), ``wave`` (dict with
    number/phase/status/...), ``errors`` (list), ``details`` (dict). Unknown keys are refused.
    """
    now = now or utcnow()
    allowed = {"status", "phase", "wave", "errors", "details", "resources", "execution_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise ExecutionError(f"unknown update keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    merged = copy.deepcopy(record)
    phase = changes.get("phase")
    if phase:
        if isinstance(phase, str):
            phase = {"name": phase, "status": "running"}
        name = str(phase.get("name") or "").upper()
        if not name:
            raise ExecutionError(f"phase entry {phase!r} has no 'name'")
        step = dict(phase, name=name)
        merged["phases"][name] = _merge_step(merged["phases"].get(name), step, now)
        if merged["phases"][name].get("status") == "running":
            merged["current_phase"] = name
            if record.get("current_phase") != name:
                merged["current_wave"] = None
    wave = changes.get("wave")
    if wave:
        if not isinstance(wave, dict):
            wave = {"number": wave, "status": "running"}
        number = wave.get("number", wave.get("wave"))
        if number is None:
            raise ExecutionError(f"wave entry {wave!r} has no 'number'")
        number = int(number)
        wave_phase = str(wave.get("phase") or merged.get("current_phase") or "NONE").upper()
        key = wave_key(wave_phase, number)
        step = {k: v for k, v in wave.items() if k not in ("wave",)}
        step.update(number=number, phase=wave_phase)
        merged["waves"][key] = _merge_step(merged["waves"].get(key), step, now)
        if merged["waves"][key].get("status") == "running":
            merged["current_wave"] = number
    for error in changes.get("errors") or []:
        entry = _error_entry(error, now, merged)
        if not any(_same_error(entry, seen) for seen in merged["errors"]):
            merged["errors"].append(entry)
    if len(merged["errors"]) > MAX_ERRORS_IN_RECORD:
        dropped = len(merged["errors"]) - MAX_ERRORS_IN_RECORD
        merged["errors"] = merged["errors"][-MAX_ERRORS_IN_RECORD:]
        merged["details"]["errors_dropped"] = merged["details"].get("errors_dropped", 0) + dropped
    if changes.get("details"):
        merged["details"].update(changes["details"])
    status = changes.get("status")
    if status and status != merged["status"]:
        _check_transition(merged, status)
        merged["status"] = status
    return merged


def _check_transition(record, status):
    if status not in STATUSES:
        raise ExecutionError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if record["status"] in TERMINAL_STATUSES:
        raise InvalidTransition(
            f"execution {record['execution_id']} already finished with status {record['status']}; "
            f"it cannot become {status}. Start a new run instead"
        )


def made_no_change(record):
    """True while a run has done nothing but plan and check: no phase after PREFLIGHT started and no wave ran.

    A resumed run that changed things in an earlier attempt shows those phases, so it keeps its lock."""
    for name, step in (record.get("phases") or {}).items():
        if name not in ("PLAN", "PREFLIGHT") and step.get("status") not in (None, "pending"):
            return False
    for key, step in (record.get("waves") or {}).items():
        if not key.upper().startswith(("PLAN/", "PREFLIGHT/")) and step.get("status") not in (None, "pending"):
            return False
    return True


def _close(record, status, now):
    """Make ``record`` final: status, end time, no pending gate, running steps closed with it."""
    record["status"] = status
    record["ended_at"] = iso(now)
    record["pending_gate"] = None
    for steps in (record["phases"], record["waves"]):
        for name, step in steps.items():
            if step.get("status") == "running":
                steps[name] = _merge_step(step, {"status": status}, now)


def merge_resource(existing, change, now=None):
    """Merge one resource entry. ``before`` is write-once per key (a resumed run never overwrites the
    state captured before the first change, which failback relies on); ``after`` and ``details`` take the
    latest values; ``job_ids`` accumulate; ``phases`` keep per-phase status and times."""
    now = now or utcnow()
    entry = copy.deepcopy(existing) if existing else {"resource": resource_key(change)}
    for key in RESOURCE_SCALARS:
        value = change.get(key)
        if value is None:
            continue
        if key == "started_at" and entry.get("started_at"):
            continue
        entry[key] = value
    before = entry.setdefault("before", {})
    for key, value in (change.get("before") or {}).items():
        if key not in before and value is not None:
            before[key] = value
    if change.get("after"):
        entry.setdefault("after", {}).update(change["after"])
    if change.get("details"):
        entry.setdefault("details", {}).update(change["details"])
    jobs = entry.setdefault("job_ids", [])
    for job in change.get("job_ids") or []:
        if job not in jobs:
            jobs.append(job)
    status = change.get("status")
    phase = change.get("phase")
    if phase:
        phase = str(phase).upper()
        entry["phase"] = phase
        step = {"status": status} if status else {}
        for key in ("started_at", "ended_at"):
            if change.get(key):
                step[key] = change[key]
        entry.setdefault("phases", {})[phase] = _merge_step(entry.get("phases", {}).get(phase), step, now)
    if status and status != "pending" and not entry.get("started_at"):
        entry["started_at"] = iso(now)
    if status in STEP_TERMINAL and not change.get("ended_at") and (existing or {}).get("status") != status:
        entry["ended_at"] = iso(now)
    if change.get("recovery_seconds") is None:
        measured = _measure_resource(entry)
        if measured is not None:
            entry["recovery_seconds"] = measured
    return entry


def _measure_resource(entry):
    """Recovery time: first phase start to the end of ACTIVATE (else to the entry's own end)."""
    phases = entry.get("phases") or {}
    starts = [p.get("started_at") for p in phases.values() if p.get("started_at")]
    start = min(starts, key=parse_time) if starts else entry.get("started_at")
    end = (phases.get("ACTIVATE") or {}).get("ended_at")
    if not end and entry.get("status") in ("succeeded",):
        end = entry.get("ended_at")
    return seconds_between(start, end)


def _strip(entry):
    return {k: v for k, v in entry.items() if k not in ("version", "updated_at")}


def record_changed(before, after):
    return _strip(before) != _strip(after)


def resource_changed(before, after):
    return before is None or _strip(before) != _strip(after)


# ---------------------------------------------------------------------------------------------------------------------
# Reporting: progress and RTO/RPO against the dr:rto-target / dr:rpo-target tags

def _target_seconds(minutes):
    try:
        return None if minutes in (None, "") else float(minutes) * 60
    except (TypeError, ValueError):
        return None


def _verdict(measured, target_minutes):
    target = _target_seconds(target_minutes)
    return {
        "target_minutes": float(target_minutes) if target is not None else None,
        "measured_seconds": measured,
        "met": None if target is None or measured is None else measured <= target,
    }


def measured_rpo(entry):
    """Data lost by the recovery, in seconds: the time the recovery was started (``after.recovery_started_at``, else
    the entry's ``started_at``) minus the point in time the recovered data is from (``after.recovery_point_time``,
    for DRS the recovery snapshot's ``pointInTimeSnapshotDateTime``). An adapter that measures it itself sets
    ``after.rpo_seconds``; an entry with only ``replication_lag_seconds`` reports that lag. None without an input.
    A recovery point taken after the launch request (DRS takes a fresh snapshot at job start) counts as 0."""
    after = entry.get("after") or {}
    if after.get("rpo_seconds") is not None:
        try:
            return max(0, int(float(after["rpo_seconds"])))
        except (TypeError, ValueError):
            return None
    point = after.get("recovery_point_time")
    if point:
        try:
            lost = seconds_between(point, after.get("recovery_started_at") or entry.get("started_at"))
        except (TypeError, ValueError):
            lost = None
        if lost is not None:
            return max(0, lost)
    return entry.get("replication_lag_seconds")


def rto_report(record, resources, now=None):
    now = now or utcnow()
    per_resource = []
    for entry in resources:
        verdict = _verdict(entry.get("recovery_seconds"), entry.get("rto_target_minutes"))
        rpo = _verdict(measured_rpo(entry), entry.get("rpo_target_minutes"))
        per_resource.append(dict(resource=entry["resource"], name=entry.get("name"), wave=entry.get("wave"),
                                 rto=verdict, rpo=rpo))
    # The RTO targets of each wave's resources, read once (not once per wave and phase).
    wave_targets = {}
    for entry in resources:
        if _target_seconds(entry.get("rto_target_minutes")):
            wave_targets.setdefault(str(entry.get("wave")), []).append(entry.get("rto_target_minutes"))
    per_wave = []
    for key in sorted(record.get("waves", {}), key=_wave_sort_key):
        wave = record["waves"][key]
        targets = wave_targets.get(str(wave.get("number")))
        target = wave.get("rto_target_minutes") or (min(targets, key=float) if targets else None)
        per_wave.append(dict(phase=wave.get("phase"), wave=wave.get("number"),
                             rto=_verdict(wave.get("duration_seconds"), target)))
    targets = [e.get("rto_target_minutes") for e in resources if _target_seconds(e.get("rto_target_minutes"))]
    run_target = min(targets, key=float) if targets else None
    end = record.get("ended_at") or (iso(now) if record.get("status") not in TERMINAL_STATUSES else None)
    activate_end = (record.get("phases", {}).get("ACTIVATE") or {}).get("ended_at")
    run_measured = seconds_between(record.get("started_at"), activate_end or end)
    return {"run": _verdict(run_measured, run_target), "waves": per_wave, "resources": per_resource}


def _wave_sort_key(key):
    phase, _slash, number = key.rpartition("/")
    try:
        return (phase, int(number))
    except ValueError:
        return (phase, 0)


def summarize(record, resources, now=None):
    """Machine-readable status: what status.yml writes and prints."""
    now = now or utcnow()
    # One pass by status: membership tests against the lists made this quadratic (1,000 entries: 0.06 s a write).
    completed, failed, pending = [], [], []
    for entry in resources:
        status = entry.get("status")
        (completed if status in ("succeeded", "skipped") else failed if status in ("failed", "cancelled")
         else pending).append(entry)
    end = parse_time(record.get("ended_at")) or now
    elapsed = int((end - parse_time(record["started_at"])).total_seconds())
    remaining = None
    estimated = None
    if record.get("status") in TERMINAL_STATUSES:
        remaining = 0
        estimated = record.get("ended_at")
    elif completed and resources:
        remaining = int(elapsed * len(pending) / len(completed))
        estimated = iso(now + datetime.timedelta(seconds=remaining))
    return {
        "execution_id": record["execution_id"],
        "customer": record.get("customer"),
        "environment": record.get("environment"),
        "operation": record.get("operation"),
        "status": record.get("status"),
        "started_by": record.get("started_by"),
        "started_at": record.get("started_at"),
        "ended_at": record.get("ended_at"),
        "phase": record.get("current_phase"),
        "wave": record.get("current_wave"),
        "pending_gate": record.get("pending_gate"),
        "elapsed_seconds": elapsed,
        "estimated_remaining_seconds": remaining,
        "estimated_completion": estimated,
        "resource_counts": {"total": len(resources), "completed": len(completed),
                            "pending": len(pending), "failed": len(failed)},
        "completed_resources": [e.get("name") or e["resource"] for e in completed],
        "pending_resources": [e.get("name") or e["resource"] for e in pending],
        "failed_resources": [dict(resource=e["resource"], name=e.get("name"), error=e.get("error"),
                                  remediation=e.get("remediation")) for e in failed],
        "errors": record.get("errors", [])[-20:],
        "approvals": record.get("approvals", []),
        "rto": rto_report(record, resources, now),
    }


def history_report(records):
    """Success rate and measured RTO over finished runs (what history.yml prints)."""
    finished = [r for r in records if r.get("status") in TERMINAL_STATUSES]
    succeeded = [r for r in finished if r["status"] == "succeeded"]
    rows = []
    for record in records:
        activate_end = (record.get("phases", {}).get("ACTIVATE") or {}).get("ended_at")
        rows.append({
            "execution_id": record["execution_id"],
            "operation": record.get("operation"),
            "environment": record.get("environment"),
            "status": record.get("status"),
            "started_by": record.get("started_by"),
            "started_at": record.get("started_at"),
            "ended_at": record.get("ended_at"),
            "duration_seconds": seconds_between(record.get("started_at"), record.get("ended_at")),
            "measured_rto_seconds": seconds_between(record.get("started_at"), activate_end or record.get("ended_at")),
        })
    rtos = [r["measured_rto_seconds"] for r in rows
            if r["status"] == "succeeded" and r["measured_rto_seconds"] is not None]
    return {
        "executions": rows,
        "count": len(records),
        "finished": len(finished),
        "succeeded": len(succeeded),
        "success_rate": round(len(succeeded) / len(finished), 4) if finished else None,
        "mean_rto_seconds": int(sum(rtos) / len(rtos)) if rtos else None,
        "max_rto_seconds": max(rtos) if rtos else None,
    }


# ---------------------------------------------------------------------------------------------------------------------
# The store interface

class ExecutionStore:
    """Operations shared by every store; subclasses provide the primitives at the bottom."""

    kind = "abstract"

    # -- high-level operations --------------------------------------------------------------------------------------

    def _scope_state(self, customer, environment):
        """One read of the scope lock: (active record or None, holder ID of a stale lock or None).

        A lock is stale when its holder finished (the release was lost) or when its holder never wrote a
        record (the process died between taking the lock and the first write) more than
        ORPHAN_LOCK_SECONDS ago. A younger lock without a record is a run that is being started."""
        return self._holder_state(self._lock_holder(scope_key(customer, environment)))

    def _holder_state(self, holder):
        """(active record or None, stale holder ID or None) of one lock holder (see _scope_state)."""
        if not holder:
            return None, None
        record = self._load(holder["holder"])
        if record is None:
            age = seconds_between(holder.get("acquired_at"), iso(utcnow()))
            if age is not None and age > ORPHAN_LOCK_SECONDS:
                return None, holder["holder"]
            return {"execution_id": holder["holder"], "operation": holder.get("operation"), "status": "starting",
                    "started_at": holder.get("acquired_at"), "started_by": "unknown"}, None
        if record["status"] in TERMINAL_STATUSES:
            return None, holder["holder"]
        return record, None

    def active_run(self, customer, environment=None):
        """The record holding the scope lock, or None."""
        return self._scope_state(customer, environment)[0]

    def _refuse_overlapping(self, customer, environment, execution_id=None):
        """Raise ActiveRunError for an active run of an overlapping scope of the same customer.

        A run for every environment of a customer (no environment given) and a run for one of its
        environments would act on the same resources, so each refuses while the other is active. Each
        run takes its own scope lock first and checks the others after, so of two runs started at once
        at least one sees the other (both may refuse; neither acts twice)."""
        key = scope_key(customer, environment)
        for held_key, holder in sorted(self._customer_locks(_norm(customer)).items()):
            if held_key == key or not scopes_overlap(held_key, key) or holder.get("holder") == execution_id:
                continue
            active, _stale = self._holder_state(holder)
            if active:
                raise ActiveRunError(active, customer, environment, held_environment=split_scope_key(held_key)[1])

    def start(self, customer, environment, operation, started_by, details=None, dry_run=False, now=None):
        """Create a run and take the scope lock. Refuses, naming it, when another run is active."""
        record = new_record(customer, environment, operation, started_by, details, now=now)
        key = scope_key(customer, environment)
        active, stale = self._scope_state(customer, environment)
        if active:
            raise ActiveRunError(active, customer, environment)
        if dry_run:
            self._refuse_overlapping(customer, environment)
            return record
        try:
            self._acquire(key, record["execution_id"], operation, replace=stale)
        except LockHeld as e:
            winner = self._load(e.holder["holder"]) or {"execution_id": e.holder["holder"], "status": "starting",
                                                        "operation": e.holder.get("operation")}
            raise ActiveRunError(winner, customer, environment) from e
        try:
            self._refuse_overlapping(customer, environment, record["execution_id"])
            self._save(record, None)
        except Exception:
            self._release(key, record["execution_id"])
            raise
        record["version"] = 1
        return record

    def find_resumable(self, customer, environment, operation):
        """The active or interrupted run for this scope and operation, or None.

        Raises ActiveRunError when the scope is held by a run of another operation."""
        active = self.active_run(customer, environment)
        if active is None:
            return None
        if active.get("operation") != operation:
            raise ActiveRunError(active, customer, environment)
        return active

    def resume(self, execution_id, started_by, dry_run=False, now=None):
        now = now or utcnow()

        def change(record):
            if record["status"] in TERMINAL_STATUSES:
                raise InvalidTransition(
                    f"execution {execution_id} finished with status {record['status']} and cannot be resumed; "
                    "start a new run instead"
                )
            record["resumptions"].append({"at": iso(now), "by": started_by, "from_status": record["status"]})
            record["status"] = "waiting_approval" if record.get("pending_gate") else "running"
            return record

        _before, record, _changed = self._modify(execution_id, change, dry_run=dry_run, now=now, always=True)
        if not dry_run:
            self._acquire(scope_key(record["customer"], record["environment"]), execution_id, record["operation"],
                          replace=execution_id)
        return record

    def resume_or_start(self, customer, environment, operation, started_by, details=None, dry_run=False, now=None):
        """Returns (record, resumed)."""
        active = self.find_resumable(customer, environment, operation)
        if active:
            return self.resume(active["execution_id"], started_by, dry_run=dry_run, now=now), True
        return self.start(customer, environment, operation, started_by, details, dry_run=dry_run, now=now), False

    def update(self, execution_id, changes, dry_run=False, now=None):
        """Merge phase/wave/error/status/details changes and resource entries.

        Returns (before, after, changed, changed_resource_keys).

        Concurrent writers never lose an update: a write that loses the version race re-reads and re-merges."""
        now = now or utcnow()
        header_changes = {k: v for k, v in changes.items() if k not in ("resources", "execution_id")}
        before, after, changed = self._modify(
            execution_id, lambda rec: merge_record(rec, header_changes, now), dry_run=dry_run, now=now
        )
        resources = changes.get("resources") or []
        resources_changed = self.merge_resources(execution_id, resources, dry_run=dry_run, now=now) if resources else []
        return before, after, changed or bool(resources_changed), resources_changed

    def merge_resources(self, execution_id, entries, dry_run=False, now=None):
        """Merge resource entries (several entries for one resource are applied in order). Returns the keys changed."""
        now = now or utcnow()
        grouped = {}
        for entry in entries:
            grouped.setdefault(resource_key(entry), []).append(entry)
        changed_keys = []
        pending = dict(grouped)
        for _attempt in range(MAX_CONFLICT_RETRIES):
            current = self._load_resources(execution_id, keys=list(pending))
            writes = []
            for key, changes in pending.items():
                existing = current.get(key)
                merged = existing
                for change in changes:
                    merged = merge_resource(merged, dict(change, resource=key), now)
                if resource_changed(existing, merged):
                    merged["updated_at"] = iso(now)
                    writes.append((merged, existing.get("version", 0) if existing else None))
            if dry_run or not writes:
                return sorted(changed_keys + [w[0]["resource"] for w in writes])
            conflicts = self._save_resources(execution_id, writes)
            changed_keys.extend(w[0]["resource"] for w in writes if w[0]["resource"] not in conflicts)
            if not conflicts:
                return sorted(changed_keys)
            pending = {k: v for k, v in pending.items() if k in conflicts}
            time.sleep(0.05 * (_attempt + 1))
        raise ConflictError(f"resources {sorted(pending)} of {execution_id}", "latest")

    def request_approval(self, execution_id, gate, timeout_seconds=None, checklist=None, dry_run=False, now=None):
        """Mark the run as waiting at ``gate``; returns the record. Idempotent while the same gate is pending.

        A decision already recorded for the gate (in advance with approve.yml -e gate=..., or before the run
        was interrupted and resumed) stands: the run does not wait and wait_for_decision returns it. Only a
        timeout is asked again."""
        now = now or utcnow()

        def change(record):
            self._refuse_terminal(record, f"wait for approval at {gate}")
            pending = record.get("pending_gate")
            if pending and pending.get("gate") == gate:
                return record
            request_id = secrets.token_hex(4)
            decided = self.decision_for(record, gate)
            if decided and decided["decision"] in DECISIONS:
                # Decided in advance, or before an interruption: a resumed run does not ask twice.
                if decided.get("request_id") is None:
                    decided["request_id"] = request_id
                    decided["consumed_at"] = iso(now)
                return record
            record["pending_gate"] = {
                "gate": gate,
                "request_id": request_id,
                "requested_at": iso(now),
                "timeout_at": iso(now + datetime.timedelta(seconds=timeout_seconds)) if timeout_seconds else None,
                "phase": record.get("current_phase"),
                "wave": record.get("current_wave"),
                "checklist": checklist or [],
            }
            record["status"] = "waiting_approval"
            return record

        _before, after, _changed = self._modify(execution_id, change, dry_run=dry_run, now=now)
        return after

    @staticmethod
    def decision_for(record, gate):
        """The latest approval entry for ``gate``, or None."""
        for approval in reversed(record.get("approvals") or []):
            if approval.get("gate") == gate:
                return approval
        return None

    def record_approval(self, execution_id, decision, approver, gate=None, mode="record", comment=None,
                        dry_run=False, now=None):
        """Record a decision for the gate the run waits at (or ``gate``). Returns (before, after, changed, approval)."""
        now = now or utcnow()
        if decision not in DECISIONS + ("timeout",):
            raise ExecutionError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
        found = {}

        def change(record):
            self._refuse_terminal(record, f"record the decision {decision!r}")
            pending = record.get("pending_gate")
            target = gate or (pending or {}).get("gate")
            if not target:
                raise ExecutionError(
                    f"execution {execution_id} is not waiting at an approval gate (status {record['status']}, "
                    f"phase {record.get('current_phase')}); pass the gate name to decide a gate in advance"
                )
            request_id = pending.get("request_id") if pending and pending.get("gate") == target else None
            earlier = self.decision_for(record, target)
            if (earlier and earlier["decision"] != "timeout"
                    and (request_id is None or earlier.get("request_id") == request_id)):
                # This gate (or the request it waits on) was already decided: a repeat changes nothing.
                if earlier["decision"] != decision:
                    raise ExecutionError(
                        f"gate {target} of {execution_id} was already decided: {earlier['decision']} by "
                        f"{earlier.get('approver')} at {earlier.get('at')}"
                    )
                found["approval"] = earlier
                return record
            approval = {"gate": target, "decision": decision, "approver": approver, "at": iso(now), "mode": mode,
                        "request_id": request_id, "comment": comment,
                        "phase": record.get("current_phase"), "wave": record.get("current_wave")}
            record["approvals"].append(approval)
            if request_id:
                record["pending_gate"] = None
                if record["status"] == "waiting_approval":
                    record["status"] = "running"
            found["approval"] = approval
            return record

        before, after, changed = self._modify(execution_id, change, dry_run=dry_run, now=now)
        return before, after, changed, found.get("approval")

    def wait_for_decision(self, execution_id, gate, timeout_seconds, poll_interval=5, sleep=time.sleep, clock=None):
        """Poll until the pending request of ``gate`` is decided or the timeout passes.

        Returns the approval entry; on timeout records and returns a ``timeout`` decision (never an approval).
        A run that was finished (for example cancelled) while waiting answers ``cancel``."""
        pauses = waiting.Poll(timeout_seconds, poll_interval, sleep=sleep, clock=clock or time.monotonic)
        while True:
            record = self.get(execution_id, with_resources=False)
            if record["status"] in TERMINAL_STATUSES:
                return {"gate": gate, "decision": "cancel", "approver": None, "mode": "record", "at": iso(utcnow()),
                        "comment": f"run finished with status {record['status']} while waiting"}
            pending = record.get("pending_gate")
            if not pending or pending.get("gate") != gate:
                approval = self.decision_for(record, gate)
                if approval:
                    return approval
                raise ExecutionError(
                    f"execution {execution_id} is not waiting at gate {gate}; request the approval first")
            if not pauses.pause():
                _before, _after, _changed, approval = self.record_approval(
                    execution_id, "timeout", "timeout", gate=gate, mode="record",
                    comment=f"no decision within {timeout_seconds} seconds")
                return approval

    def finish(self, execution_id, status, errors=None, details=None, dry_run=False, now=None):
        """Set the final status. succeeded/failed/cancelled release the scope lock; interrupted keeps it."""
        now = now or utcnow()
        if status not in TERMINAL_STATUSES + ("interrupted",):
            allowed = ", ".join(TERMINAL_STATUSES + ("interrupted",))
            raise ExecutionError(f"finish status {status!r} is not one of {allowed}")

        def change(record):
            record = merge_record(record, {"errors": errors or [], "details": details or {}}, now)
            if record["status"] == status:
                return record
            _check_transition(record, status)
            if status in TERMINAL_STATUSES:
                _close(record, status, now)
            else:
                record["status"] = status
            return record

        before, after, changed = self._modify(execution_id, change, dry_run=dry_run, now=now)
        if not dry_run and status in TERMINAL_STATUSES:
            self._release(scope_key(after["customer"], after["environment"]), execution_id)
        return before, after, changed

    def stopped(self, execution_id, now=None):
        """Close a run whose playbook ended without finishing it. Returns the status it was given.

        A run that changed something is ``interrupted`` and keeps the scope lock (the same command resumes it).
        A run that stopped before any change (``made_no_change``: refused in PLAN or PREFLIGHT) is closed as
        ``failed`` with ``refused_before_change``, and its lock is released: nothing is left to resume, and the
        customer is free for whatever command fits next."""
        now = now or utcnow()
        record = self.get(execution_id, with_resources=False)
        if record["status"] not in ("running", "waiting_approval"):
            return record["status"]
        if not made_no_change(record):
            self.finish(execution_id, "interrupted", now=now)
            return "interrupted"

        def change(current):
            current["refused_before_change"] = {
                "at": iso(now), "phase": current.get("current_phase") or "PREFLIGHT",
                "reason": "the run stopped before any change; its scope lock is released",
            }
            return current

        self._modify(execution_id, change, now=now)
        self.finish(execution_id, "failed", now=now)
        return "failed"

    def cancel(self, execution_id, cancelled_by, reason, gate=None, dry_run=False, now=None):
        """End a run in any non-final state (running, waiting at a gate, interrupted): status ``cancelled``, the
        scope lock released, and who and why in ``cancellation``. A pending gate (or ``gate``) gets the ``cancel``
        decision, so a run that still waits there stops at its next poll. Returns (before, after, changed).

        A run that already ended is left alone: cancelling it again changes nothing, any other end is refused."""
        now = now or utcnow()
        if not (reason or "").strip():
            raise ExecutionError("a cancellation needs a reason (-e reason=...): it is recorded with who cancelled")

        def change(record):
            if record["status"] == "cancelled":
                return record
            self._refuse_terminal(record, "cancel it")
            pending = record.get("pending_gate") or {}
            target_gate = gate or pending.get("gate")
            if target_gate:
                record["approvals"].append({
                    "gate": target_gate, "decision": "cancel", "approver": cancelled_by, "at": iso(now),
                    "mode": "record", "comment": reason,
                    "request_id": pending.get("request_id") if pending.get("gate") == target_gate else None,
                    "phase": record.get("current_phase"), "wave": record.get("current_wave"),
                })
            record["cancellation"] = {
                "by": cancelled_by, "reason": reason, "at": iso(now), "from_status": record["status"],
                "phase": record.get("current_phase"), "wave": record.get("current_wave"), "gate": target_gate,
            }
            _close(record, "cancelled", now)
            return record

        before, after, changed = self._modify(execution_id, change, dry_run=dry_run, now=now)
        if not dry_run:
            self._release(scope_key(after["customer"], after["environment"]), execution_id)
        return before, after, changed

    def active_runs(self, customer, environment=None):
        """Every run holding a scope lock of ``customer`` (of ``environment`` only, when given), oldest first."""
        found = []
        for held_key, holder in sorted(self._customer_locks(_norm(customer)).items()):
            if environment and split_scope_key(held_key)[1] != _norm(environment):
                continue
            active, _stale = self._holder_state(holder)
            if active:
                found.append(active)
        return sorted(found, key=lambda r: r.get("started_at") or "")

    def get(self, execution_id, with_resources=True):
        record = self._load(execution_id)
        if record is None:
            raise RecordNotFound(execution_id)
        if with_resources:
            record["resources"] = self.resources(execution_id)
        return record

    def resources(self, execution_id):
        items = self._load_resources(execution_id)
        return sorted(items.values(), key=lambda e: (str(e.get("wave") or ""), e["resource"]))

    def latest(self, customer, environment=None, operation=None):
        found = self.list(customer, environment, operation, limit=1)
        return found[0] if found else None

    def list(self, customer=None, environment=None, operation=None, limit=10):
        """Newest first, without resources."""
        return self._query(customer, environment, operation, limit)

    # -- helpers ---------------------------------------------------------------------------------------------------

    @staticmethod
    def _refuse_terminal(record, what):
        if record["status"] in TERMINAL_STATUSES:
            raise InvalidTransition(
                f"execution {record['execution_id']} already finished with status {record['status']}; cannot {what}"
            )

    def _modify(self, execution_id, change, dry_run=False, now=None, always=False):
        """Read-modify-write with optimistic concurrency. Returns (before, after, changed)."""
        now = now or utcnow()
        for attempt in range(MAX_CONFLICT_RETRIES):
            before = self._load(execution_id)
            if before is None:
                raise RecordNotFound(execution_id)
            after = change(copy.deepcopy(before))
            changed = always or record_changed(before, after)
            if not changed or dry_run:
                return before, after, changed
            after["updated_at"] = iso(now)
            try:
                self._save(after, before["version"])
            except ConflictError:
                time.sleep(0.02 * (attempt + 1))
                continue
            after["version"] = before["version"] + 1
            return before, after, True
        raise ConflictError(execution_id, "latest")

    # -- primitives ------------------------------------------------------------------------------------------------

    def ensure(self, dry_run=False):
        """Create the store if missing; returns True when it was (or would be) created."""
        raise NotImplementedError

    def _load(self, execution_id):
        raise NotImplementedError

    def _save(self, record, expected_version):
        """Write the header; ``expected_version`` None means it must not exist yet. Raises ConflictError."""
        raise NotImplementedError

    def _load_resources(self, execution_id, keys=None):
        raise NotImplementedError

    def _save_resources(self, execution_id, writes):
        """``writes`` = [(entry, expected_version_or_None)]. Returns the set of keys that hit a conflict."""
        raise NotImplementedError

    def _lock_holder(self, key):
        raise NotImplementedError

    def _acquire(self, key, execution_id, operation, replace=None):
        """Take the lock if free (or held by ``replace``); raises LockHeld naming the holder otherwise."""
        raise NotImplementedError

    def _release(self, key, execution_id):
        raise NotImplementedError

    def _customer_locks(self, customer):
        """{scope key: holder} of every scope lock of one customer, read consistently."""
        raise NotImplementedError

    def _query(self, customer, environment, operation, limit):
        raise NotImplementedError


def _matches(record, customer, environment, operation):
    if customer and _norm(record.get("customer")) != _norm(customer):
        return False
    if environment and _norm(record.get("environment")) != _norm(environment):
        return False
    if operation and record.get("operation") != operation:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------------
# File store

class FileStore(ExecutionStore):
    """JSON files under ``path``: executions/<id>.json, resources/<id>.json, locks/<scope>.json.

    Every write happens under an exclusive ``fcntl`` lock on ``path/.store.lock`` and lands by atomic
    rename, so a crash never leaves a half-written file and two processes never interleave."""

    kind = "file"

    def __init__(self, path=None):
        self.path = os.path.abspath(os.path.expanduser(path or DEFAULT_STORE_PATH))

    def _dir(self, name):
        return os.path.join(self.path, name)

    def ensure(self, dry_run=False):
        missing = [d for d in ("executions", "resources", "locks") if not os.path.isdir(self._dir(d))]
        if missing and not dry_run:
            for name in missing:
                os.makedirs(self._dir(name), mode=0o700, exist_ok=True)
        return bool(missing)

    def _require(self):
        if self.ensure(dry_run=True):
            try:
                self.ensure()
            except OSError as e:
                raise StoreUnavailable(f"execution store directory {self.path} cannot be created: {e}; "
                                       "pass a writable store_path") from e

    class _Locked:
        def __init__(self, store):
            self.store = store
            self.handle = None

        def __enter__(self):
            self.store._require()
            self.handle = open(os.path.join(self.store.path, ".store.lock"), "a+")
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX)
            return self

        def __exit__(self, *exc):
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()

    def _read(self, path):
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None

    def _write(self, path, data, compact=False):
        directory = os.path.dirname(path)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # The entries file is rewritten whole on every merge and grows with the estate: written compact, it
                # uses json's C encoder (1,000 entries: 0.02 s instead of 0.11 s indented). Records stay indented.
                if compact:
                    json.dump(data, handle, sort_keys=True, separators=(",", ":"))
                else:
                    json.dump(data, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except Exception:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @staticmethod
    def _safe(name):
        if not re.match(r"^[A-Za-z0-9_.#@-]+$", name) or name.startswith("."):
            raise ExecutionError(f"{name!r} is not a valid execution ID or scope")
        return name.replace("#", "@")

    def _record_path(self, execution_id):
        return os.path.join(self._dir("executions"), self._safe(execution_id) + ".json")

    def _resources_path(self, execution_id):
        return os.path.join(self._dir("resources"), self._safe(execution_id) + ".json")

    def _lock_path(self, key):
        return os.path.join(self._dir("locks"), self._safe(key) + ".json")

    def _load(self, execution_id):
        return self._read(self._record_path(execution_id))

    def _save(self, record, expected_version):
        with self._Locked(self):
            path = self._record_path(record["execution_id"])
            current = self._read(path)
            if expected_version is None and current is not None:
                raise ConflictError(record["execution_id"], None)
            if expected_version is not None and (current is None or current.get("version") != expected_version):
                raise ConflictError(record["execution_id"], expected_version)
            self._write(path, dict(record, version=(expected_version or 0) + 1))

    def _load_resources(self, execution_id, keys=None):
        items = self._read(self._resources_path(execution_id)) or {}
        if keys is not None:
            wanted = set(keys)
            items = {k: v for k, v in items.items() if k in wanted}
        return items

    def _save_resources(self, execution_id, writes):
        with self._Locked(self):
            path = self._resources_path(execution_id)
            items = self._read(path) or {}
            conflicts = set()
            for entry, expected in writes:
                key = entry["resource"]
                current = items.get(key)
                if (current is None) != (expected is None) or (current and current.get("version") != expected):
                    conflicts.add(key)
                    continue
                items[key] = dict(entry, version=(expected or 0) + 1)
            self._write(path, items, compact=True)
            return conflicts

    def _lock_holder(self, key):
        return self._read(self._lock_path(key))

    def _customer_locks(self, customer):
        locks = {}
        prefix = self._safe(customer + "#")
        with self._Locked(self):
            for name in os.listdir(self._dir("locks")):
                if name.startswith(prefix) and name.endswith(".json"):
                    holder = self._read(os.path.join(self._dir("locks"), name))
                    if holder and split_scope_key(holder.get("scope", ""))[0] == customer:
                        locks[holder["scope"]] = holder
        return locks

    def _acquire(self, key, execution_id, operation, replace=None):
        with self._Locked(self):
            path = self._lock_path(key)
            holder = self._read(path)
            if holder and holder.get("holder") not in (execution_id, replace):
                raise LockHeld(holder)
            self._write(path, {"scope": key, "holder": execution_id, "operation": operation,
                               "acquired_at": iso(utcnow())})

    def _release(self, key, execution_id):
        with self._Locked(self):
            path = self._lock_path(key)
            holder = self._read(path)
            if holder and holder.get("holder") == execution_id:
                os.unlink(path)

    def _query(self, customer, environment, operation, limit):
        records = []
        if not os.path.isdir(self._dir("executions")):
            return records
        prefix = f"edr-{_slug(customer)}-" if customer else ""
        for name in os.listdir(self._dir("executions")):
            if not name.endswith(".json") or not name.startswith(prefix):
                continue
            record = self._read(os.path.join(self._dir("executions"), name))
            if record and _matches(record, customer, environment, operation):
                records.append(record)
        records.sort(key=lambda r: (r.get("started_at") or "", r["execution_id"]), reverse=True)
        return records[:limit] if limit else records


# ---------------------------------------------------------------------------------------------------------------------
# DynamoDB store

STORE_THROTTLING_CODES = ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                          "Throttling", "TooManyRequestsException")
STORE_ACCESS_CODES = ("AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException",
                      "InvalidSignatureException", "MissingAuthenticationTokenException", "NoCredentialsError",
                      "PartialCredentialsError")


def store_advice(code, table):
    """What to do about a DynamoDB error of the record store: the advice follows the error, not a guess."""
    if code in STORE_THROTTLING_CODES:
        return (f"DynamoDB throttled {table} beyond the collection's retries (every call backs off and retries "
                "already): the table exists; re-run the same command once the throughput recovers, or raise the "
                "account's DynamoDB throughput quota")
    if code == "ResourceNotFoundException":
        return "create the table with playbooks/setup_hub.yml (or pass table_name), or use store=file"
    if code in STORE_ACCESS_CODES:
        return ("check the hub account's credentials (profile or role) and that they allow dynamodb on the table; "
                "or use store=file")
    if code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
                "InternalServerError", "ServiceUnavailable"):
        return "DynamoDB did not answer: check the region and network, then re-run the same command; or use store=file"
    return "check the hub account credentials and region, or use store=file"


class DynamoDBStore(ExecutionStore):
    """One table in the hub account (schema in docs/execution_record.md), through a low-level client.

    ``client`` is a boto3 DynamoDB client (ideally wrapped in the collection's retry decorator)."""

    kind = "dynamodb"

    def __init__(self, client, table_name=DEFAULT_TABLE_NAME):
        self.client = client
        self.table = table_name or DEFAULT_TABLE_NAME

    # -- table ------------------------------------------------------------------------------------------------------

    TABLE_SPEC = dict(
        AttributeDefinitions=[
            {"AttributeName": "execution_id", "AttributeType": "S"},
            {"AttributeName": "record_key", "AttributeType": "S"},
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "started_at", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "execution_id", "KeyType": "HASH"},
            {"AttributeName": "record_key", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[{
            "IndexName": CUSTOMER_INDEX,
            "KeySchema": [
                {"AttributeName": "customer", "KeyType": "HASH"},
                {"AttributeName": "started_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }],
        BillingMode="PAY_PER_REQUEST",
    )

    def describe(self):
        try:
            return self.client.describe_table(TableName=self.table)["Table"]
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise self._unavailable(e) from e
        except BotoCoreError as e:
            raise self._unavailable(e) from e

    def ensure(self, dry_run=False, wait=True, tags=None):
        table = self.describe()
        if table is not None:
            self._check_schema(table)
            return False
        if dry_run:
            return True
        spec = dict(self.TABLE_SPEC, TableName=self.table)
        if tags:
            spec["Tags"] = [{"Key": k, "Value": str(v)} for k, v in tags.items()]
        try:
            self.client.create_table(**spec)
            if wait:
                self.client.get_waiter("table_exists").wait(TableName=self.table,
                                                            WaiterConfig={"Delay": 1, "MaxAttempts": 120})
            self.client.update_continuous_backups(
                TableName=self.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        except (ClientError, BotoCoreError) as e:
            raise self._unavailable(e, "create") from e
        return True

    def _check_schema(self, table):
        keys = {k["AttributeName"]: k["KeyType"] for k in table.get("KeySchema", [])}
        indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", []) or []}
        if keys != {"execution_id": "HASH", "record_key": "RANGE"} or CUSTOMER_INDEX not in indexes:
            raise ExecutionError(
                f"DynamoDB table {self.table} exists with another schema (keys {keys}, indexes {sorted(indexes)}); "
                f"it needs partition key execution_id, sort key record_key and index {CUSTOMER_INDEX}. "
                "Use another table_name or run playbooks/setup_hub.yml against an empty name"
            )

    def _unavailable(self, error, what="reach"):
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        return StoreUnavailable(f"cannot {what} the execution store table {self.table} ({code}: {error}); "
                                f"{store_advice(code, self.table)}")

    def _call(self, method, **kwargs):
        try:
            return getattr(self.client, method)(**kwargs)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise
            raise self._unavailable(e) from e
        except BotoCoreError as e:
            raise self._unavailable(e) from e

    @staticmethod
    def _is_conflict(error):
        return error.response["Error"]["Code"] == "ConditionalCheckFailedException"

    # -- records ----------------------------------------------------------------------------------------------------

    def _load(self, execution_id):
        item = self._call("get_item", TableName=self.table, ConsistentRead=True,
                          Key={"execution_id": {"S": execution_id}, "record_key": {"S": RECORD_KEY}}).get("Item")
        return self._decode(item) if item else None

    @staticmethod
    def _decode(item):
        record = json.loads(item["body"]["S"])
        record["version"] = int(item["version"]["N"])
        return record

    def _save(self, record, expected_version):
        body = {k: v for k, v in record.items() if k not in ("version", "resources")}
        item = {
            "execution_id": {"S": record["execution_id"]},
            "record_key": {"S": RECORD_KEY},
            "customer": {"S": _norm(record["customer"])},
            "environment": {"S": _norm(record.get("environment")) or ALL_ENVIRONMENTS},
            "operation": {"S": record["operation"]},
            "status": {"S": record["status"]},
            "started_at": {"S": record["started_at"]},
            "updated_at": {"S": record.get("updated_at") or record["started_at"]},
            "version": {"N": str((expected_version or 0) + 1)},
            "body": {"S": json.dumps(body, sort_keys=True, separators=(",", ":"))},
        }
        if expected_version is None:
            condition = {"ConditionExpression": "attribute_not_exists(execution_id)"}
        else:
            condition = {"ConditionExpression": "version = :v",
                         "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}}
        try:
            self._call("put_item", TableName=self.table, Item=item, **condition)
        except ClientError as e:
            if self._is_conflict(e):
                raise ConflictError(record["execution_id"], expected_version) from e
            raise

    def _load_resources(self, execution_id, keys=None):
        items = {}
        if keys is not None and len(keys) <= 25:
            for key in keys:
                item = self._call("get_item", TableName=self.table, ConsistentRead=True, Key={
                    "execution_id": {"S": execution_id}, "record_key": {"S": RESOURCE_PREFIX + key}}).get("Item")
                if item:
                    entry = self._decode(item)
                    items[entry["resource"]] = entry
            return items
        kwargs = dict(TableName=self.table, ConsistentRead=True,
                      KeyConditionExpression="execution_id = :e AND begins_with(record_key, :p)",
                      ExpressionAttributeValues={":e": {"S": execution_id}, ":p": {"S": RESOURCE_PREFIX}})
        while True:
            page = self._call("query", **kwargs)
            for item in page.get("Items", []):
                entry = self._decode(item)
                items[entry["resource"]] = entry
            if not page.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if keys is not None:
            wanted = set(keys)
            items = {k: v for k, v in items.items() if k in wanted}
        return items

    def _save_resources(self, execution_id, writes):
        conflicts = set()
        for entry, expected in writes:
            body = {k: v for k, v in entry.items() if k != "version"}
            item = {
                "execution_id": {"S": execution_id},
                "record_key": {"S": RESOURCE_PREFIX + entry["resource"]},
                "status": {"S": str(entry.get("status") or "pending")},
                "version": {"N": str((expected or 0) + 1)},
                "body": {"S": json.dumps(body, sort_keys=True, separators=(",", ":"))},
            }
            if expected is None:
                condition = {"ConditionExpression": "attribute_not_exists(execution_id)"}
            else:
                condition = {"ConditionExpression": "version = :v",
                             "ExpressionAttributeValues": {":v": {"N": str(expected)}}}
            try:
                self._call("put_item", TableName=self.table, Item=item, **condition)
            except ClientError as e:
                if not self._is_conflict(e):
                    raise
                conflicts.add(entry["resource"])
        return conflicts

    # -- scope lock -------------------------------------------------------------------------------------------------

    @staticmethod
    def _lock_item_key(key):
        # One partition per customer, one item per environment: a consistent Query reads all of them.
        customer, _sep, environment = key.partition("#")
        return {"execution_id": {"S": f"{LOCK_KEY}#{customer}"}, "record_key": {"S": f"{LOCK_KEY}#{environment}"}}

    def _customer_locks(self, customer):
        locks = {}
        kwargs = dict(TableName=self.table, ConsistentRead=True,
                      KeyConditionExpression="execution_id = :p AND begins_with(record_key, :l)",
                      ExpressionAttributeValues={":p": {"S": f"{LOCK_KEY}#{customer}"}, ":l": {"S": f"{LOCK_KEY}#"}})
        while True:
            page = self._call("query", **kwargs)
            for item in page.get("Items", []):
                environment = item["record_key"]["S"][len(LOCK_KEY) + 1:]
                locks[f"{customer}#{environment}"] = {
                    "holder": item["holder"]["S"], "operation": item.get("operation", {}).get("S"),
                    "acquired_at": item.get("acquired_at", {}).get("S")}
            if not page.get("LastEvaluatedKey"):
                return locks
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _lock_holder(self, key):
        item = self._call("get_item", TableName=self.table, ConsistentRead=True,
                          Key=self._lock_item_key(key)).get("Item")
        if not item:
            return None
        return {"holder": item["holder"]["S"], "operation": item.get("operation", {}).get("S"),
                "acquired_at": item.get("acquired_at", {}).get("S")}

    def _acquire(self, key, execution_id, operation, replace=None):
        item = dict(self._lock_item_key(key), holder={"S": execution_id}, operation={"S": operation},
                    acquired_at={"S": iso(utcnow())})
        values = {":me": {"S": execution_id}}
        condition = "attribute_not_exists(execution_id) OR holder = :me"
        if replace:
            values[":stale"] = {"S": replace}
            condition += " OR holder = :stale"
        try:
            self._call("put_item", TableName=self.table, Item=item, ConditionExpression=condition,
                       ExpressionAttributeValues=values)
        except ClientError as e:
            if not self._is_conflict(e):
                raise
            raise LockHeld(self._lock_holder(key) or {"holder": "unknown"}) from e

    def _release(self, key, execution_id):
        try:
            self._call("delete_item", TableName=self.table, Key=self._lock_item_key(key),
                       ConditionExpression="holder = :me", ExpressionAttributeValues={":me": {"S": execution_id}})
        except ClientError as e:
            if not self._is_conflict(e):
                raise

    # -- queries ----------------------------------------------------------------------------------------------------

    def _query(self, customer, environment, operation, limit):
        records = []
        if customer:
            kwargs = dict(TableName=self.table, IndexName=CUSTOMER_INDEX, ScanIndexForward=False,
                          KeyConditionExpression="customer = :c",
                          ExpressionAttributeValues={":c": {"S": _norm(customer)}})
        else:
            kwargs = dict(TableName=self.table, FilterExpression="record_key = :r",
                          ExpressionAttributeValues={":r": {"S": RECORD_KEY}})
        method = "query" if customer else "scan"
        while True:
            page = self._call(method, **kwargs)
            for item in page.get("Items", []):
                record = self._decode(item)
                if _matches(record, customer, environment, operation):
                    records.append(record)
            if not page.get("LastEvaluatedKey") or (customer and limit and len(records) >= limit):
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        records.sort(key=lambda r: (r.get("started_at") or "", r["execution_id"]), reverse=True)
        return records[:limit] if limit else records


def store_from_options(kind, table_name=None, store_path=None, client=None):
    if kind == "file":
        return FileStore(store_path)
    if kind == "dynamodb":
        if client is None:
            raise ExecutionError("store=dynamodb needs a DynamoDB client")
        return DynamoDBStore(client, table_name)
    raise ExecutionError(f"store {kind!r} is not one of dynamodb, file")


# ---------------------------------------------------------------------------------------------------------------------
# Module glue: the store options every execution-record module takes (documented in each module)

STORE_ARGUMENT_SPEC = {
    "store": {"type": "str", "default": "dynamodb", "choices": ["dynamodb", "file"]},
    "table_name": {"type": "str", "default": DEFAULT_TABLE_NAME},
    "store_path": {"type": "path", "default": DEFAULT_STORE_PATH},
}


def store_for_module(module):
    """The store named by the module's options; DynamoDB calls follow the collection's retry policy."""
    params = module.params
    if params["store"] == "file":
        return FileStore(params["store_path"])
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import module_client

    return DynamoDBStore(module_client(module, "dynamodb"), params["table_name"])
