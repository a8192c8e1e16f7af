#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: execution_record
short_description: Start, resume, update, approve and finish the execution record of a DR run
version_added: 0.1.0
description:
  - Every failover, drill and failback run has one execution record (docs/execution_record.md). It holds the
    scope, the operation, who started it, every phase and wave with start and end times, every resource's
    before and after state, approvals, errors with remediation and measured recovery times.
  - The record lives in a DynamoDB table in the hub account (O(store=dynamodb)) or, for air-gapped runs, in
    JSON files (O(store=file)). Both stores hold one lock per customer and environment, so two runs never
    act on the same scope at once, and write with a version check, so concurrent writers never lose updates.
  - O(action=start) creates a run and refuses, naming it, when another run of the scope is active.
    O(action=resume_or_start) resumes the active or interrupted run of the same scope and operation
    (a re-run after an interruption continues the same execution), or starts one.
  - O(action=update) merges a phase, a wave, resource entries, errors, details or a status into the record.
    A resource's C(before) values are written once and never overwritten (failback relies on them).
  - O(action=wait_approval) marks the run as waiting at O(gate) and, with O(wait=true), polls the record until
    a decision is recorded (by O(action=approve), for example through C(playbooks/approve.yml)) or
    O(wait_timeout) passes. A timeout is recorded and returned as RV(decision=timeout); it never approves.
  - O(action=approve) records a decision for the gate the run waits at (or for O(gate) in advance). A C(cancel)
    decision ends the run in any state, as O(action=cancel) does.
  - O(action=cancel) ends a run that is running, waiting at a gate or interrupted (for example one whose controller
    died) - status C(cancelled), the scope lock released, and who and why in the record's C(cancellation). A gate the
    run waits at gets the C(cancel) decision, so a run still polling there stops. Name the run with O(execution_id),
    or with O(customer) (and O(environment)) when exactly one run of that scope is active. Cancelling a run that is
    already cancelled changes nothing; a run that succeeded or failed cannot be cancelled.
  - O(action=finish) sets the final status (and merges O(errors) and O(details)). C(succeeded), C(failed) and
    C(cancelled) release the scope lock; C(interrupted) keeps it, so the next run of the same operation resumes
    this one.
  - O(action=ensure_store) creates the DynamoDB table (or the file store directory) if it is missing.
  - Check mode reads the store and returns the predicted record without writing anything.
options:
  action:
    description: What to do with the record.
    type: str
    required: true
    choices: [start, resume_or_start, resume, update, wait_approval, approve, finish, ensure_store, cancel]
  store:
    description:
      - Where records live. C(dynamodb) is the hub account's table, reached with the module's AWS credentials;
        C(file) is a directory of JSON files for runs without access to the hub account.
    type: str
    default: dynamodb
    choices: [dynamodb, file]
  table_name:
    description: The DynamoDB table (O(store=dynamodb)). C(playbooks/setup_hub.yml) creates it.
    type: str
    default: enterprise-dr-executions
  store_path:
    description: The file store directory (O(store=file)). Created on the first write.
    type: path
    default: ~/.ansible/enterprise_dr/executions
  execution_id:
    description:
      - The run to act on. Required for O(action=update), O(action=wait_approval), O(action=approve),
        O(action=finish) and O(action=resume); O(action=cancel) takes it or O(customer).
    type: str
  customer:
    description: The customer of the run. Required for O(action=start) and O(action=resume_or_start).
    type: str
  environment:
    description:
      - The environment of the run (the C(Environment) tag). Omitted means every environment of O(customer).
      - The scope lock is per customer and environment.
    type: str
    aliases: [env]
  operation:
    description: The operation. Required for O(action=start) and O(action=resume_or_start).
    type: str
    choices: [failover, drill, failback]
  controller:
    description:
      - The controller process running this run, as C(host:pid) (the C(dr_controller_host) and
        C(dr_controller_pid) variables of the C(enterprise_dr.orchestration.dr_controller) vars plugin).
      - With O(action=resume_or_start), an active run of the same operation is resumed only when its controller
        no longer runs (it was interrupted); while it runs on this host, or when it ran on another host and was not
        marked C(interrupted), the new run is refused, naming the active one, so two controllers never drive one
        run at once.
    type: str
  started_by:
    description:
      - Who starts or resumes the run. Pass the AWX user (C(awx_user_name) or C(tower_user_name) extra vars)
        when run from AWX; defaults to the operating system user of the controller.
    type: str
  details:
    description:
      - Free-form facts about the run merged into the record's C(details), for example C(emergency) or C(awx_job_id).
    type: dict
  status:
    description:
      - The run's new status (O(action=update)) or final status (O(action=finish)).
      - O(action=finish) accepts C(succeeded), C(failed), C(cancelled) and C(interrupted).
    type: str
    choices: [running, waiting_approval, succeeded, failed, cancelled, interrupted]
  phase:
    description: A phase entry to merge (O(action=update)). Times default to now; the duration is computed.
    type: dict
    suboptions:
      name:
        description: PREFLIGHT, INSTANTIATE, ACTIVATE, CLEANUP or REPLICATE (any case).
        type: str
        required: true
      status:
        description: The phase's status.
        type: str
        choices: [pending, running, succeeded, failed, skipped, cancelled]
      started_at:
        description: ISO 8601 UTC start time; defaults to when the status first leaves C(pending).
        type: str
      ended_at:
        description: ISO 8601 UTC end time; defaults to when the status becomes final.
        type: str
  wave:
    description: A wave entry to merge (O(action=update)), keyed by phase and wave number.
    type: dict
    suboptions:
      number:
        description: The wave number (C(dr:wave)).
        type: int
        required: true
      phase:
        description: The phase the wave runs in. Defaults to the record's current phase.
        type: str
      status:
        description: The wave's status.
        type: str
        choices: [pending, running, succeeded, failed, skipped, cancelled]
      started_at:
        description: ISO 8601 UTC start time.
        type: str
      ended_at:
        description: ISO 8601 UTC end time.
        type: str
      rto_target_minutes:
        description: The wave's RTO target; defaults to the strictest C(dr:rto-target) of its resources.
        type: float
  resources:
    description:
      - Resource entries to merge (O(action=update)), each keyed by C(resource) (the ARN or ID).
      - The same shape modules return under C(dr_record.resources) (docs/execution_record.md), for example
        C(name), C(technology), C(wave), C(phase), C(status), C(before), C(after), C(job_ids), C(error),
        C(remediation), C(rto_target_minutes), C(rpo_target_minutes), C(replication_lag_seconds).
    type: list
    elements: dict
  errors:
    description: Errors to append, each a message string or a dict with C(message), C(remediation), C(resource).
    type: list
    elements: raw
  gate:
    description: The approval gate's name (O(action=wait_approval); O(action=approve) to decide a gate in advance).
    type: str
  checklist:
    description: What the approver should have checked, stored with the pending gate and shown by status.yml.
    type: list
    elements: str
  decision:
    description: The decision (O(action=approve)).
    type: str
    choices: [approve, cancel]
  approver:
    description: Who decides (O(action=approve)) or cancels (O(action=cancel)). Defaults to the operating system user.
    type: str
  approval_mode:
    description: How the decision was taken, for the audit trail.
    type: str
    default: record
    choices: [required, automatic, record, awx_workflow]
  comment:
    description: A note stored with the decision (with O(decision=cancel), the reason of the cancellation).
    type: str
  reason:
    description: Why the run is cancelled (O(action=cancel), required); stored in the record's C(cancellation).
    type: str
  wait:
    description: With O(action=wait_approval), poll until a decision arrives. Without, only mark the run as waiting.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for a decision before recording C(timeout).
    type: int
    default: 1800
  poll_interval:
    description:
      - The longest pause, in seconds, between two reads of the record while waiting.
      - The first pause is half a second and each pause doubles up to this interval.
    type: int
    default: 10
  return_resources:
    description:
      - Return the resource entries in RV(record.resources). Turn off for large runs when only the header matters.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: End a stuck run of acme production, recording who and why
  enterprise_dr.orchestration.execution_record:
    action: cancel
    customer: acme
    environment: production
    reason: controller host lost during the drill; drill cleaned up by hand (CHG-1234)
    approver: jane.doe

- name: Resume the interrupted failover of this scope, or start one
  enterprise_dr.orchestration.execution_record:
    action: resume_or_start
    customer: "{{ customer }}"
    environment: "{{ env | default(omit) }}"
    operation: failover
    started_by: "{{ awx_user_name | default(tower_user_name) | default(omit) }}"
    details:
      awx_job_id: "{{ awx_job_id | default(omit) }}"
  register: dr_run

- name: Make the execution ID visible to the audit callback
  ansible.builtin.set_fact:
    dr_execution_id: "{{ dr_run.execution_id }}"

- name: Record that wave 1 of INSTANTIATE started
  enterprise_dr.orchestration.execution_record:
    action: update
    execution_id: "{{ dr_execution_id }}"
    phase: {name: INSTANTIATE, status: running}
    wave: {number: 1, status: running}

- name: Wait for an approval recorded by playbooks/approve.yml (non-interactive gate)
  enterprise_dr.orchestration.execution_record:
    action: wait_approval
    execution_id: "{{ dr_execution_id }}"
    gate: before-activate
    checklist: ["Wave 1 instances pass status checks", "Application owner validated wave 1"]
    wait_timeout: 1800
  register: gate

- name: Stop unless approved
  ansible.builtin.fail:
    msg: "Gate before-activate: {{ gate.decision }} by {{ gate.approver }}"
  when: not gate.approved

- name: Record the decision for the gate the run waits at
  enterprise_dr.orchestration.execution_record:
    action: approve
    execution_id: edr-acme-20240501T120000-a1b2c3
    decision: approve
    approver: jane.doe

- name: Finish the run
  enterprise_dr.orchestration.execution_record:
    action: finish
    execution_id: "{{ dr_execution_id }}"
    status: succeeded

- name: Air-gapped run with the file store
  enterprise_dr.orchestration.execution_record:
    action: start
    store: file
    store_path: /var/lib/enterprise-dr/executions
    customer: acme
    operation: drill
"""

RETURN = r"""
execution_id:
  description:
    - The run's execution ID (C(edr-<customer>-<UTC yyyymmddThhmmss>-<6 hex>)).
    - In check mode for a new run, a predicted ID.
  returned: when the action names or creates a run
  type: str
  sample: edr-acme-20240501T120000-a1b2c3
resumed:
  description: Whether O(action=resume_or_start) resumed an existing run.
  returned: when O(action) is resume_or_start or resume
  type: bool
record:
  description: The record after the action (docs/execution_record.md lists every field).
  returned: when the action names or creates a run
  type: dict
  contains:
    status:
      description: running, waiting_approval, succeeded, failed, cancelled or interrupted.
      type: str
    phases:
      description: Phase entries keyed by phase name.
      type: dict
    waves:
      description: Wave entries keyed by C(<PHASE>/<number>).
      type: dict
    approvals:
      description: Every decision with gate, decision, approver, time and mode.
      type: list
    pending_gate:
      description: The gate the run waits at, or null.
      type: dict
    resources:
      description: Resource entries (when O(return_resources=true)).
      type: list
summary:
  description: Progress and RTO figures, the same as C(playbooks/status.yml) writes.
  returned: when the action names or creates a run
  type: dict
decision:
  description: The decision at the gate, C(approve), C(cancel) or C(timeout); null when none yet.
  returned: when O(action) is wait_approval or approve
  type: str
approved:
  description: Whether the gate was approved. Only an explicit C(approve) decision approves.
  returned: when O(action) is wait_approval or approve
  type: bool
approver:
  description: Who decided.
  returned: when O(action) is wait_approval or approve
  type: str
approval:
  description: The full decision entry.
  returned: when O(action) is wait_approval or approve
  type: dict
cancellation:
  description: Who cancelled the run, when, why, and from which status, phase and gate.
  returned: when O(action=cancel), or O(action=approve) with O(decision=cancel)
  type: dict
  sample: {by: jane.doe, reason: stuck, at: "2024-05-01T12:00:00Z", from_status: interrupted, phase: INSTANTIATE}
changed_resources:
  description: The resources whose entries changed (O(action=update)).
  returned: when O(action=update)
  type: list
  elements: str
store_created:
  description: Whether O(action=ensure_store) created the store.
  returned: when O(action=ensure_store)
  type: bool
"""

import os
import socket

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.modules import DRModule

STEP_OPTIONS = {
    "status": {"type": "str", "choices": list(ex.STEP_STATUSES)},
    "started_at": {"type": "str"},
    "ended_at": {"type": "str"},
}


def _clean(value):
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    return value


def _header(record):
    return {k: v for k, v in (record or {}).items() if k not in ("resources", "updated_at", "version")}


class Runner:
    def __init__(self, module, store):
        self.module = module
        self.params = module.params
        self.store = store
        self.check = module.check_mode
        self.result = {"changed": False}

    def _finish_result(self, before, after, changed, with_resources=None):
        eid = after["execution_id"]
        with_resources = self.params["return_resources"] if with_resources is None else with_resources
        resources = []
        try:
            resources = self.store.resources(eid)
        except ex.ExecutionError:
            resources = []
        record = dict(after)
        record.pop("resources", None)
        summary = ex.summarize(record, resources)
        if with_resources:
            record["resources"] = resources
        self.result.update(changed=changed, execution_id=eid, record=record, summary=summary)
        if self.module._diff:
            self.result["diff"] = {"before": _header(before), "after": _header(after)}

    def _started_by(self):
        return ex.resolve_started_by(self.params["started_by"])

    def start(self):
        p = self.params
        record = self.store.start(p["customer"], p["environment"], p["operation"], self._started_by(),
                                  details=_clean(p["details"] or {}), dry_run=self.check)
        self._finish_result({}, record, True)

    def resume_or_start(self):
        p = self.params
        active = self.store.find_resumable(p["customer"], p["environment"], p["operation"])
        if active and controller_alive(active, p["controller"]):
            # A run of the same operation whose controller still runs is a concurrent run, not an interruption.
            raise ex.ActiveRunError(active, p["customer"], p["environment"])
        start_details = dict(_clean(p["details"] or {}), **({"controller": p["controller"]} if p["controller"] else {}))
        record, resumed = self.store.resume_or_start(p["customer"], p["environment"], p["operation"],
                                                     self._started_by(), details=start_details, dry_run=self.check)
        details = dict(_clean(p["details"] or {}), **({"controller": p["controller"]} if p["controller"] else {}))
        if resumed and details and not self.check:
            _before, record, _changed, _keys = self.store.update(record["execution_id"], {"details": details})
        self.result["resumed"] = resumed
        self._finish_result({} if not resumed else record, record, True)

    def resume(self):
        before = self.store.get(self.params["execution_id"], with_resources=False)
        record = self.store.resume(self.params["execution_id"], self._started_by(), dry_run=self.check)
        self.result["resumed"] = True
        self._finish_result(before, record, True)

    def update(self):
        p = self.params
        changes = {}
        if p["status"]:
            changes["status"] = p["status"]
        if p["phase"]:
            changes["phase"] = _clean(p["phase"])
        if p["wave"]:
            changes["wave"] = _clean(p["wave"])
        if p["resources"]:
            changes["resources"] = p["resources"]
        if p["errors"]:
            changes["errors"] = p["errors"]
        if p["details"]:
            changes["details"] = p["details"]
        if not changes:
            self.module.fail_json(
                msg="action=update needs at least one of status, phase, wave, resources, errors, details")
        before, after, changed, keys = self.store.update(p["execution_id"], changes, dry_run=self.check)
        self.result["changed_resources"] = keys
        self._finish_result(before, after, changed)

    def _approval_result(self, approval):
        decision = approval.get("decision") if approval else None
        self.result.update(decision=decision, approved=decision == "approve",
                           approver=approval.get("approver") if approval else None, approval=approval)

    def wait_approval(self):
        p = self.params
        eid, gate = p["execution_id"], p["gate"]
        before = self.store.get(eid, with_resources=False)
        after = self.store.request_approval(eid, gate, timeout_seconds=p["wait_timeout"], checklist=p["checklist"],
                                            dry_run=self.check)
        changed = ex.record_changed(before, after)
        approval = None
        if self.check:
            pending = after.get("pending_gate")
            if not pending or pending.get("gate") != gate:
                approval = self.store.decision_for(after, gate)
        elif p["wait"]:
            approval = self.store.wait_for_decision(eid, gate, p["wait_timeout"], p["poll_interval"])
            after = self.store.get(eid, with_resources=False)
            changed = True
        else:
            pending = after.get("pending_gate")
            if not pending or pending.get("gate") != gate:
                approval = self.store.decision_for(after, gate)
        self._approval_result(approval)
        self._finish_result(before, after, changed, with_resources=False)

    def approve(self):
        p = self.params
        approver = ex.resolve_started_by(p["approver"])
        if p["decision"] == "cancel" and not self._waited_on(p["execution_id"], p["gate"]):
            # Nobody waits for this decision (no gate pending, or the run's controller is gone): a cancel ends the
            # run now, in whatever state it is, instead of waiting for a process that will never read it.
            self._cancel(p["execution_id"], approver, p["comment"] or f"cancelled by {approver} (decision=cancel)")
            record = self.result["record"]
            gate = (record.get("cancellation") or {}).get("gate")
            self._approval_result((ex.ExecutionStore.decision_for(record, gate) if gate else None)
                                  or {"decision": "cancel", "approver": approver, "gate": None})
            return
        before, after, changed, approval = self.store.record_approval(
            p["execution_id"], p["decision"], approver, gate=p["gate"], mode=p["approval_mode"],
            comment=p["comment"], dry_run=self.check)
        self._approval_result(approval)
        self._finish_result(before, after, changed, with_resources=False)

    def _waited_on(self, execution_id, gate):
        """Whether a cancel decision is for a gate (the run acts on it) rather than the end of the run now.

        A named gate is always decided as asked (at the gate, or in advance for a resumed run). Without one, the
        decision goes to the gate a live run waits at; when no gate is pending or the run's controller is gone,
        nobody would ever read it, so the cancel ends the run."""
        if gate:
            return True
        record = self.store.get(execution_id, with_resources=False)
        if record["status"] in ex.TERMINAL_STATUSES:
            return True  # record_approval refuses it with its own message
        return bool(record.get("pending_gate")) and not controller_gone(record)

    def _cancel(self, execution_id, by, reason):
        before, after, changed = self.store.cancel(execution_id, by, reason, gate=self.params["gate"],
                                                   dry_run=self.check)
        self.result["cancellation"] = after.get("cancellation")
        self._finish_result(before, after, changed, with_resources=False)

    def cancel(self):
        p = self.params
        execution_id = p["execution_id"]
        if not execution_id:
            active = self.store.active_runs(p["customer"], p["environment"])
            scope = p["customer"] + (f" {p['environment']}" if p["environment"] else "")
            if not active:
                latest = self.store.latest(p["customer"], p["environment"])
                last = (f"; its latest run {latest['execution_id']} is {latest['status']}" if latest else "")
                raise ex.ExecutionError(f"{scope} has no active run to cancel{last}")
            if len(active) > 1:
                listed = ", ".join(f"{r['execution_id']} ({r['operation']}, {r['status']})" for r in active)
                raise ex.ExecutionError(f"{scope} has {len(active)} active runs: {listed}; "
                                        "name the one to cancel with -e execution_id=<id>")
            execution_id = active[0]["execution_id"]
        self._cancel(execution_id, ex.resolve_started_by(p["approver"]), p["reason"])

    def finish(self):
        p = self.params
        errors = p["errors"] or []
        before, after, changed = self.store.finish(p["execution_id"], p["status"], errors=errors,
                                                   details=_clean(p["details"] or {}), dry_run=self.check)
        self._finish_result(before, after, changed)

    def ensure_store(self):
        created = self.store.ensure(dry_run=self.check)
        self.result.update(changed=created, store_created=created)


def controller_gone(record):
    """True when the run's recorded controller (host:pid) is on this host and no longer runs."""
    if record.get("status") == "interrupted":
        return True
    recorded = (record.get("details") or {}).get("controller")
    if not recorded:
        return False
    host, _sep, pid = recorded.rpartition(":")
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return True
    except PermissionError:
        return False
    return False


def controller_alive(record, controller):
    """Whether the controller recorded on ``record`` (host:pid) may still be running it."""
    if record.get("status") == "interrupted":
        return False
    recorded = (record.get("details") or {}).get("controller")
    if not recorded or not controller or recorded == controller:
        return False
    host, _sep, pid = recorded.rpartition(":")
    if host != controller.rpartition(":")[0]:
        return True  # another controller host: it cannot be checked from here, so it is presumed alive
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def main():
    argument_spec = dict(
        action=dict(type="str", required=True, choices=["start", "resume_or_start", "resume", "update",
                                                        "wait_approval", "approve", "finish", "ensure_store",
                                                        "cancel"]),
        execution_id=dict(type="str"),
        customer=dict(type="str"),
        environment=dict(type="str", aliases=["env"]),
        operation=dict(type="str", choices=list(ex.OPERATIONS)),
        started_by=dict(type="str"),
        controller=dict(type="str"),
        details=dict(type="dict"),
        status=dict(type="str", choices=list(ex.STATUSES)),
        phase=dict(type="dict", options=dict(name=dict(type="str", required=True), **STEP_OPTIONS)),
        wave=dict(type="dict", options=dict(number=dict(type="int", required=True), phase=dict(type="str"),
                                            rto_target_minutes=dict(type="float"), **STEP_OPTIONS)),
        resources=dict(type="list", elements="dict"),
        errors=dict(type="list", elements="raw"),
        gate=dict(type="str"),
        checklist=dict(type="list", elements="str"),
        decision=dict(type="str", choices=list(ex.DECISIONS)),
        approver=dict(type="str"),
        approval_mode=dict(type="str", default="record", choices=list(ex.APPROVAL_MODES)),
        comment=dict(type="str"),
        reason=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        poll_interval=dict(type="int", default=10),
        return_resources=dict(type="bool", default=True),
    )
    argument_spec.update(ex.STORE_ARGUMENT_SPEC)
    module = DRModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[
            ("action", "start", ["customer", "operation"]),
            ("action", "resume_or_start", ["customer", "operation"]),
            ("action", "resume", ["execution_id"]),
            ("action", "update", ["execution_id"]),
            ("action", "wait_approval", ["execution_id", "gate"]),
            ("action", "approve", ["execution_id", "decision"]),
            ("action", "finish", ["execution_id", "status"]),
            ("action", "cancel", ["reason"]),
            ("action", "cancel", ["execution_id", "customer"], True),
        ],
    )
    runner = Runner(module, ex.store_for_module(module))
    try:
        getattr(runner, module.params["action"])()
    except ex.ActiveRunError as e:
        module.fail_json(msg=str(e), active_execution_id=e.active["execution_id"],
                         active_status=e.active.get("status"), active_operation=e.active.get("operation"))
    except ex.ExecutionError as e:
        module.fail_json(msg=str(e))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"execution store {module.params['store']} failed")
    module.exit_json(**runner.result)


if __name__ == "__main__":
    main()
