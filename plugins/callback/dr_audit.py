# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_audit
type: aggregate
short_description: Audit trail of DR runs - JSON-lines events and the execution record fed from module results
version_added: 0.1.0
description:
  - Writes one JSON line per playbook start, play start, task result and final statistics to
    O(log_dir)/dr_audit.jsonl. Every line carries the run's execution ID as correlation ID.
  - Feeds the execution record (docs/execution_record.md) from the structured C(dr_record) key that the
    collection's modules return (resource entries with before/after state, phase, wave, errors), and records
    failed tasks as errors of the run. The record is updated with the same merge as
    M(enterprise_dr.orchestration.execution_record), so module writes and callback writes never lose each other.
  - The execution ID comes from the C(execution_id) returned by M(enterprise_dr.orchestration.execution_record)
    (start/resume), a C(dr_execution_id) fact (M(ansible.builtin.set_fact)), a C(dr_execution_id) extra var,
    or C(dr_record.execution_id) in a result.
  - When the store cannot be reached it warns once, keeps writing the JSON-lines log and appends every update to
    the pending file of its execution, O(pending_dir)/<execution ID>.jsonl. Pending updates belong to their
    execution; they are replayed, in order, only into that execution, by the next playbook that works on it (the
    resumed run, or any playbook given C(-e dr_execution_id=<ID>)) and reaches the store. It never fails the play.
  - When the playbook ends while the run it started or resumed is still C(running) (a failure without a
    rescue that finishes the record), the run is marked C(interrupted), so the next run resumes it; a run that
    stopped before any change (refused in PREFLIGHT) is closed as C(failed) instead and its scope lock released.
  - Enable it with C(callbacks_enabled = enterprise_dr.orchestration.dr_audit) in C(ansible.cfg) (this repository's
    C(ansible.cfg) does) or C(ANSIBLE_CALLBACKS_ENABLED); docs/awx.md shows AWX.
requirements:
  - enable in configuration (callbacks_enabled)
  - boto3 for the DynamoDB store
options:
  log_dir:
    description: Directory of the JSON-lines audit log C(dr_audit.jsonl). Created if missing.
    type: path
    default: ~/.ansible/enterprise_dr/audit
    env:
      - name: EDR_AUDIT_LOG_DIR
    ini:
      - section: callback_dr_audit
        key: log_dir
  store:
    description:
      - Where to feed the execution record. C(auto) uses the store of the run's
        M(enterprise_dr.orchestration.execution_record) task (C(dynamodb) when none ran), C(none) only logs.
    type: str
    default: auto
    choices: [auto, dynamodb, file, none]
    env:
      - name: EDR_AUDIT_STORE
    ini:
      - section: callback_dr_audit
        key: store
  table_name:
    description: DynamoDB table, when not learned from the execution_record task.
    type: str
    default: enterprise-dr-executions
    env:
      - name: EDR_AUDIT_TABLE_NAME
    ini:
      - section: callback_dr_audit
        key: table_name
  store_path:
    description: File store directory, when not learned from the execution_record task.
    type: path
    default: ~/.ansible/enterprise_dr/executions
    env:
      - name: EDR_AUDIT_STORE_PATH
    ini:
      - section: callback_dr_audit
        key: store_path
  region:
    description:
      - Region of the hub account's table; defaults to the execution_record task's region, then C(AWS_DEFAULT_REGION).
    type: str
    env:
      - name: EDR_AUDIT_REGION
    ini:
      - section: callback_dr_audit
        key: region
  profile:
    description: AWS profile for the hub account; defaults to the environment's credentials.
    type: str
    env:
      - name: EDR_AUDIT_PROFILE
    ini:
      - section: callback_dr_audit
        key: profile
  pending_dir:
    description:
      - Directory where updates that could not be written wait for replay, one file per execution
        (C(<execution ID>.jsonl)). Defaults to O(log_dir)/pending.
    type: path
    env:
      - name: EDR_AUDIT_PENDING_DIR
    ini:
      - section: callback_dr_audit
        key: pending_dir
  timeout:
    description:
      - Connect and read timeout in seconds for the DynamoDB store, so an unreachable hub never stalls the play.
    type: int
    default: 5
    env:
      - name: EDR_AUDIT_TIMEOUT
    ini:
      - section: callback_dr_audit
        key: timeout
"""

import datetime
import hashlib
import json
import os
import re

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex

RECORD_KEY = "dr_record"
RECORD_MODULE = "execution_record"
STARTING_ACTIONS = ("start", "resume_or_start", "resume")
UPDATE_KEYS = ("phase", "wave", "resources", "errors", "details", "status")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_mode(task):
    return getattr(task, "check_mode", None) is True or bool((context.CLIARGS or {}).get("check"))


def _action_name(task):
    action = getattr(task, "action", None) or ""
    return action.rsplit(".", 1)[-1]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "enterprise_dr.orchestration.dr_audit"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execution_id = None
        self.started_here = set()
        self.learned = {}
        self._store = None
        self._store_down = False
        self._warned = set()
        self.playbook = None
        self.play = None
        self.log_path = None
        self.pending_dir = None
        self._replayed = set()

    # -- options and plumbing ------------------------------------------------------------------------------------

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        log_dir = os.path.expanduser(self.get_option("log_dir"))
        self.log_path = os.path.join(log_dir, "dr_audit.jsonl")
        self.pending_dir = os.path.expanduser(self.get_option("pending_dir") or os.path.join(log_dir, "pending"))

    def pending_path(self, execution_id):
        """The pending-updates file of one execution (a name that cannot leave the directory)."""
        name = str(execution_id)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}", name):
            name = "id-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]
        return os.path.join(self.pending_dir, name + ".jsonl")

    def _warn_once(self, key, message):
        if key not in self._warned:
            self._warned.add(key)
            self._display.warning(f"dr_audit: {message}")

    def _append(self, path, data):
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(data, sort_keys=True, default=str) + "\n")
        except OSError as e:
            self._warn_once(f"write:{path}",
                            f"cannot write {path} ({e}); set EDR_AUDIT_LOG_DIR to a writable directory")

    def _event(self, event, **fields):
        fields.update(ts=_now(), event=event, execution_id=self.execution_id, correlation_id=self.execution_id,
                      playbook=self.playbook)
        self._append(self.log_path, fields)

    def _store_settings(self):
        kind = self.get_option("store")
        learned = self.learned
        if kind == "auto":
            kind = learned.get("store") or "dynamodb"
        return {
            "store": kind,
            "table_name": learned.get("table_name") or self.get_option("table_name"),
            "store_path": learned.get("store_path") or self.get_option("store_path"),
            "region": self.get_option("region") or learned.get("region") or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            "endpoint_url": learned.get("endpoint_url"),
        }

    def _get_store(self):
        if self._store is not None:
            return self._store
        settings = self._store_settings()
        if settings["store"] == "none":
            return None
        if settings["store"] == "file":
            self._store = ex.FileStore(settings["store_path"])
        else:
            try:
                from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients
            except ImportError as e:
                raise ex.StoreUnavailable(f"boto3 is not installed ({e})") from e
            timeout = self.get_option("timeout")
            config = clients.retrying_config(connect_timeout=timeout, read_timeout=timeout)
            session = clients.retrying_session(profile_name=self.get_option("profile"))
            kwargs = {"region_name": settings["region"], "config": config}
            if settings["endpoint_url"]:
                kwargs["endpoint_url"] = settings["endpoint_url"]
            self._store = ex.DynamoDBStore(session.client("dynamodb", **kwargs), settings["table_name"])
        return self._store

    def _apply(self, execution_id, update):
        """Write one update to the store, or keep it in the pending file when the store is unreachable."""
        if not execution_id or not update:
            return
        if self._store_settings()["store"] == "none":
            return
        if not self._store_down:
            self._replay_pending(execution_id)
        if not self._store_down:
            try:
                store = self._get_store()
                store.update(execution_id, update)
                return
            except ex.RecordNotFound as e:
                self._warn_once(f"missing:{execution_id}",
                                f"{e}; the update is kept in {self.pending_path(execution_id)}")
            except ex.InvalidTransition as e:
                self._warn_once(f"finished:{execution_id}", str(e))
                return
            except Exception as e:  # the play must never fail because of the audit trail
                self._store_down = True
                self._warn_once("store", f"execution store unreachable ({e}); keeping the audit log in "
                                         f"{self.log_path} and pending record updates in {self.pending_dir}")
        self._append(self.pending_path(execution_id), {"ts": _now(), "execution_id": execution_id, "update": update,
                                                       "store": self._store_settings()})

    def _replay_pending(self, execution_id):
        """Replay the pending updates of ``execution_id`` (only its own file, only into it), once per playbook."""
        if not execution_id or execution_id in self._replayed or self._store_settings()["store"] == "none":
            return
        self._replayed.add(execution_id)
        path = self.pending_path(execution_id)
        if not os.path.exists(path):
            return
        try:
            with open(path, encoding="utf-8") as handle:
                lines = [json.loads(line) for line in handle if line.strip()]
        except (OSError, ValueError) as e:
            self._warn_once("pending-read", f"cannot read {path}: {e}")
            return
        left = []
        for entry in lines:
            if entry.get("execution_id") != execution_id:
                continue  # never replay an update into another execution than its own
            if left:
                left.append(entry)
                continue
            try:
                store = self._get_store()
                if store is None:
                    return
                store.update(execution_id, entry["update"])
            except ex.InvalidTransition:
                continue
            except Exception as e:  # keep it for the next time
                self._warn_once("replay", f"{len(lines)} pending updates of {execution_id} not replayed yet ({e})")
                left.append(entry)
        try:
            if left:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.writelines(json.dumps(e, sort_keys=True, default=str) + "\n" for e in left)
            else:
                os.unlink(path)
                self._event("pending_replayed", count=len(lines), replayed_into=execution_id)
        except OSError as e:
            self._warn_once("pending-write", f"cannot rewrite {path}: {e}")

    # -- learning the execution ID -------------------------------------------------------------------------------

    def _learn(self, task, res):
        facts = res.get("ansible_facts") or {}
        if facts.get("dr_execution_id"):
            self.execution_id = str(facts["dr_execution_id"])
        if _action_name(task) == RECORD_MODULE and res.get("execution_id") and not res.get("failed"):
            args = (res.get("invocation") or {}).get("module_args") or {}
            if args.get("action") in STARTING_ACTIONS:
                self.execution_id = res["execution_id"]
                if not _check_mode(task):
                    self.started_here.add(res["execution_id"])
            for key in ("store", "table_name", "store_path", "region", "endpoint_url"):
                if args.get(key):
                    self.learned[key] = args[key]
            if self._store is not None and self._store_settings()["store"] != self._store.kind:
                self._store = None

    @staticmethod
    def _records(res):
        records = []
        if isinstance(res.get(RECORD_KEY), dict):
            records.append(res[RECORD_KEY])
        for item in res.get("results") or []:
            if isinstance(item, dict) and isinstance(item.get(RECORD_KEY), dict):
                records.append(item[RECORD_KEY])
        return records

    def _handle(self, result, status, ignore_errors=False):
        task, host, res = result._task, result._host.get_name(), result._result
        no_log = bool(res.get("censored")) or bool(getattr(task, "no_log", False))
        self._learn(task, res)
        records = [] if no_log else self._records(res)
        is_record_module = _action_name(task) == RECORD_MODULE
        in_check = _check_mode(task)
        event = {"host": host, "task": task.get_name(), "action": task.action, "status": status,
                 "changed": bool(res.get("changed")), "check_mode": in_check}
        if status in ("failed", "unreachable") and not no_log:
            event["msg"] = str(res.get("msg") or "")[:2000]
        if records:
            event[RECORD_KEY] = records
        self._event("task_result", **event)
        if in_check:
            return
        if self.execution_id and not self._store_down:
            self._replay_pending(self.execution_id)
        if is_record_module:
            return
        for record in records:
            update = {k: record[k] for k in UPDATE_KEYS if record.get(k)}
            self._apply(record.get("execution_id") or self.execution_id, update)
        if status in ("failed", "unreachable") and not ignore_errors and not records and self.execution_id:
            message = "the task's output is hidden (no_log)" if no_log else str(res.get("msg") or status)
            error = {"message": f"{task.get_name()}: {message}"[:2000], "resource": host, "task": task.get_name()}
            if res.get("remediation"):
                error["remediation"] = res["remediation"]
            self._apply(self.execution_id, {"errors": [error]})

    def _safely(self, method, *args, **kwargs):
        try:
            method(*args, **kwargs)
        except Exception as e:  # an audit trail problem must never fail the play
            self._warn_once(f"internal:{type(e).__name__}", f"audit event not recorded: {e}")

    # -- callback hooks ------------------------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        self.playbook = os.path.basename(getattr(playbook, "_file_name", "") or "")
        self._safely(self._event, "playbook_start")

    def v2_playbook_on_play_start(self, play):
        def start():
            self.play = play.get_name()
            manager = play.get_variable_manager()
            extra = getattr(manager, "extra_vars", None) or {}
            if extra.get("dr_execution_id"):
                self.execution_id = str(extra["dr_execution_id"])
            self._event("play_start", play=self.play, check_mode=bool(getattr(play, "check_mode", False)))
            if self.execution_id and not getattr(play, "check_mode", False) and not self._store_down:
                self._replay_pending(self.execution_id)

        self._safely(start)

    def v2_runner_on_ok(self, result):
        self._safely(self._handle, result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._safely(self._handle, result, "failed", ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._safely(self._event, "task_result", host=result._host.get_name(), task=result._task.get_name(),
                     action=result._task.action, status="skipped")

    def v2_runner_on_unreachable(self, result):
        self._safely(self._handle, result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._safely(self._stats, stats)

    def _stats(self, stats):
        hosts = sorted(stats.processed.keys())
        summary = {h: stats.summarize(h) for h in hosts}
        failures = sum(s["failures"] + s["unreachable"] for s in summary.values())
        self._event("stats", hosts=summary, failures=failures)
        for execution_id in sorted(self.started_here):
            self._mark_interrupted(execution_id)
        if self._store_down:
            self._display.warning(
                f"dr_audit: the execution record of {self.execution_id} misses updates; they wait in "
                f"{self.pending_path(self.execution_id)} and are replayed into it by the next playbook that works "
                "on this execution and reaches the store")

    def _mark_interrupted(self, execution_id):
        store = None if self._store_down else self._get_store()
        if store is None:
            return
        try:
            record = store.get(execution_id, with_resources=False)
            if record["status"] in ("running", "waiting_approval"):
                status = store.stopped(execution_id)
                self._event("run_interrupted" if status == "interrupted" else "run_refused",
                            previous_status=record["status"], status=status)
                if status == "interrupted":
                    self._display.warning(
                        f"dr_audit: run {execution_id} ended without finishing its record; marked interrupted. "
                        "Run the same playbook again to resume it")
                else:
                    self._display.warning(
                        f"dr_audit: run {execution_id} stopped before any change; closed as failed and its scope "
                        "lock released (fix what PREFLIGHT reported, then run the command again)")
        except Exception as e:
            self._warn_once("interrupt", f"cannot mark {execution_id} interrupted: {e}")
