# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: dr_progress
type: stdout
short_description: Progress of a DR run an operator can follow - phase, wave, resources done, elapsed time
version_added: 0.1.0
description:
  - A compact stdout callback for failover, drill and failback runs. It prints one line per play (the phase), one
    line per wave when the wave's result is recorded (status, resources through the phase of the run's total,
    elapsed time), a line per failed resource with its error and fix (with I(resource_lines=all), a line per
    resource, what it did - the technology's summary line, else its state after the phase), the messages of the
    playbooks' own C(debug) tasks (plans, gates, summaries), warnings, and every failure with its message.
  - Bookkeeping tasks (facts, includes, record writes, skipped tasks) are not printed. Nor are the adapters' own
    C(Show ...) messages in a real run, where the recorded entries say the same; in a dry run (C(--check)), which
    records nothing, they are the prediction and are printed.
  - What every resource did is in the summary at the end of the run, in the execution record and in its report.
  - With C(-v) or more it prints exactly what the C(default) callback prints; so does selecting the C(default)
    callback (C(ANSIBLE_STDOUT_CALLBACK=default)).
  - Enable it with C(ANSIBLE_STDOUT_CALLBACK=enterprise_dr.orchestration.dr_progress) or C(stdout_callback) in
    C(ansible.cfg); C(make demo) does.
extends_documentation_fragment:
  - default_callback
options:
  hide_tasks:
    description: Names of C(debug) tasks whose messages are bookkeeping and not printed.
    type: list
    elements: str
    default: ["Say the wave is skipped", "Show the recovery plan as JSON"]
    env:
      - name: EDR_PROGRESS_HIDE_TASKS
    ini:
      - section: callback_dr_progress
        key: hide_tasks
  resource_lines:
    description:
      - C(failed) prints a line per resource only for the resources that failed (with the error and the fix); a
        wave of 100 servers that succeeded is one line.
      - C(all) prints a line per resource per wave and phase, failed or not.
    type: str
    choices: [failed, all]
    default: failed
    env:
      - name: EDR_PROGRESS_RESOURCE_LINES
    ini:
      - section: callback_dr_progress
        key: resource_lines
"""

import json
import time

from ansible import context
from ansible.plugins.callback.default import CallbackModule as DefaultCallback

try:
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.report import generic_summary
except ImportError:  # the collection's module_utils are always beside this file; stay usable without them
    def generic_summary(entry):
        return f"{entry.get('phase') or ''} {entry.get('status') or ''}".strip()

TERMINAL = ("succeeded", "failed", "skipped", "cancelled")
RECORD_ACTIONS = ("enterprise_dr.orchestration.execution_record", "execution_record")
DEBUG_ACTIONS = ("ansible.builtin.debug", "debug", "ansible.legacy.debug")


def compact_json(value):
    """Valid JSON with one line per top-level key: a status document reads in a screen, not in four hundred lines."""
    if not isinstance(value, dict) or not value:
        return json.dumps(value, sort_keys=True, default=str)
    items = [f"  {json.dumps(str(k))}: {json.dumps(v, sort_keys=True, default=str)}" for k, v in sorted(value.items())]
    return "{\n" + ",\n".join(items) + "\n}"


class CallbackModule(DefaultCallback):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "enterprise_dr.orchestration.dr_progress"

    def __init__(self):
        super().__init__()
        self._started = time.monotonic()
        self._total = None
        self._phase = None
        self._play = None
        self._done = {}
        self._waves = {}
        self._finished_waves = {}
        self._hide = set()
        self._all_resources = False

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        try:
            self._hide = set(self.get_option("hide_tasks") or [])
        except KeyError:
            self._hide = set()
        try:
            self._all_resources = self.get_option("resource_lines") == "all"
        except KeyError:
            self._all_resources = False

    # -- helpers ------------------------------------------------------------------------------------------------------

    @property
    def _full(self):
        return self._display.verbosity >= 1

    def _elapsed(self):
        seconds = int(time.monotonic() - self._started)
        return f"{seconds // 60:02d}:{seconds % 60:02d}"

    def _line(self, text, color=None):
        self._display.display(f"[{self._elapsed()}] {text}", color=color)

    def _counts(self, phase):
        """Resources through the phase: every resource of a finished wave (whether it took part in the phase or
        not), else those with a terminal entry."""
        done = self._done.get(phase) or {}
        finished = len([s for s in done.values() if s in TERMINAL])
        waves = self._finished_waves.get(phase) or set()
        if self._waves and waves:
            finished = max(finished, sum(self._waves.get(number, 0) for number in waves))
        total = self._total if self._total is not None else len(done)
        return f"{finished}/{total} resources done"

    def _learn_run(self, result):
        facts = (result._result or {}).get("ansible_facts") or {}
        run = facts.get("dr_run")
        if isinstance(run, dict) and isinstance(run.get("hosts"), list):
            self._total = len(run["hosts"])
            self._waves = {str(w.get("wave")): int(w.get("count") or len(w.get("hosts") or []))
                           for w in run.get("waves") or [] if isinstance(w, dict)}

    @staticmethod
    def _check_mode():
        try:
            return bool(context.CLIARGS.get("check"))
        except AttributeError:
            return False

    @staticmethod
    def _own_name(task):
        """The task's name as written (Ansible's get_name() prefixes a role's tasks with "<role> : ")."""
        return str(getattr(task, "name", None) or task.get_name()).strip()

    def _adapter_message(self, task):
        """An adapter's own C(Show ...) message: what it did or would do, which a real run records anyway."""
        role = getattr(task, "_role", None)
        name = role.get_name() if role is not None else ""
        return name.rsplit(".", 1)[-1].startswith("adapter_") and self._own_name(task).startswith("Show ")

    def _record(self, result):
        """A wave's results written to the execution record: the wave line and one line per resource."""
        args = ((result._result or {}).get("invocation") or {}).get("module_args") or {}
        if args.get("action") not in ("update", None):
            return
        wave = args.get("wave") or {}
        entries = [e for e in args.get("resources") or [] if isinstance(e, dict)]
        phase = (wave.get("phase") or (entries[0].get("phase") if entries else None) or self._phase or "").upper()
        if not wave and not entries:
            return
        done = self._done.setdefault(phase, {})
        for entry in entries:
            done[entry.get("resource") or entry.get("name")] = entry.get("status")
        if wave:
            status = wave.get("status") or "running"
            if status in TERMINAL:
                self._finished_waves.setdefault(phase, set()).add(str(wave.get("number")))
            color = "red" if status == "failed" else ("green" if status == "succeeded" else None)
            self._line(f"{phase} wave {wave.get('number')} {status} - {self._counts(phase)}", color=color)
        if not self._all_resources:
            entries = [e for e in entries if e.get("status") == "failed" or e.get("error")]
        width = max([len(str(e.get("name") or e.get("resource"))) for e in entries] or [0])
        for entry in entries:
            name = str(entry.get("name") or entry.get("resource"))
            what = entry.get("summary") or generic_summary(entry)
            error = f" | ERROR {entry['error']} | FIX {entry.get('remediation') or '-'}" if entry.get("error") else ""
            self._display.display(f"    {name.ljust(width)}  {entry.get('status') or '-':<9}  {what}{error}",
                                  color="red" if entry.get("status") == "failed" else None)

    def _debug(self, result):
        task = result._task
        if self._own_name(task) in self._hide or task.get_name().strip() in self._hide:
            return
        if not self._check_mode() and self._adapter_message(task):
            return
        data = result._result or {}
        if "msg" in data:
            message = data["msg"]
        else:  # debug var=NAME returns {NAME: value}
            names = [k for k in data if not k.startswith("_ansible") and k not in ("changed", "failed", "skipped")]
            message = data[names[0]] if names else ""
        lines = message if isinstance(message, list) else [message]
        for line in lines:
            text = line if isinstance(line, str) else compact_json(line)
            for part in str(text).splitlines() or [""]:
                self._display.display(f"    {part}")

    # -- events -------------------------------------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        if self._full:
            return super().v2_playbook_on_start(playbook)
        self._started = time.monotonic()
        self._display.display(f"== {playbook._file_name}", color="bright blue")

    def v2_playbook_on_play_start(self, play):
        if self._full:
            return super().v2_playbook_on_play_start(play)
        name = play.get_name().strip()
        if name == self._play:
            return  # the same play again: Ansible starts it once per serial batch (wave)
        self._play = name
        head = name.split(" ", 1)[0]
        if head.isupper():
            self._phase = head
        self._line(name, color="bright blue")

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._full:
            return super().v2_playbook_on_task_start(task, is_conditional)

    def v2_playbook_on_handler_task_start(self, task):
        if self._full:
            return super().v2_playbook_on_handler_task_start(task)

    def v2_playbook_on_include(self, included_file):
        if self._full:
            return super().v2_playbook_on_include(included_file)

    def v2_runner_on_start(self, host, task):
        if self._full:
            return super().v2_runner_on_start(host, task)

    def v2_runner_on_ok(self, result):
        if self._full:
            return super().v2_runner_on_ok(result)
        self._handle_warnings(result._result)
        action = result._task.action
        self._learn_run(result)
        if action in RECORD_ACTIONS:
            self._record(result)
        elif action in DEBUG_ACTIONS and "results" not in (result._result or {}):
            self._debug(result)  # a loop's items were shown one by one; its aggregate says only "All items completed"

    def v2_runner_item_on_ok(self, result):
        if self._full:
            return super().v2_runner_item_on_ok(result)
        self._handle_warnings(result._result)
        if result._task.action in DEBUG_ACTIONS:
            self._debug(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if self._full:
            return super().v2_runner_on_failed(result, ignore_errors)
        self._handle_warnings(result._result)
        if ignore_errors:
            return
        message = (result._result or {}).get("msg") or "failed"
        self._line(f"FAILED {result._host.get_name()}: {result._task.get_name().strip()}: {message}", color="red")

    def v2_runner_item_on_failed(self, result):
        if self._full:
            return super().v2_runner_item_on_failed(result)
        message = (result._result or {}).get("msg") or "failed"
        self._line(f"FAILED {result._host.get_name()}: {result._task.get_name().strip()} (item): {message}",
                   color="red")

    def v2_runner_on_unreachable(self, result):
        if self._full:
            return super().v2_runner_on_unreachable(result)
        self._line(f"UNREACHABLE {result._host.get_name()}: {(result._result or {}).get('msg')}", color="red")

    def v2_runner_on_skipped(self, result):
        if self._full:
            return super().v2_runner_on_skipped(result)

    def v2_runner_item_on_skipped(self, result):
        if self._full:
            return super().v2_runner_item_on_skipped(result)

    def v2_runner_retry(self, result):
        if self._full:
            return super().v2_runner_retry(result)

    def v2_on_file_diff(self, result):
        if self._full:
            return super().v2_on_file_diff(result)

    def v2_playbook_on_no_hosts_matched(self):
        if self._full:
            return super().v2_playbook_on_no_hosts_matched()

    def v2_playbook_on_no_hosts_remaining(self):
        if self._full:
            return super().v2_playbook_on_no_hosts_remaining()

    def v2_playbook_on_stats(self, stats):
        if self._full:
            return super().v2_playbook_on_stats(stats)
        hosts = sorted(stats.processed.keys())
        failed = [h for h in hosts if stats.summarize(h)["failures"] or stats.summarize(h)["unreachable"]]
        changed = sum(stats.summarize(h)["changed"] for h in hosts)
        verdict = f"{len(failed)} host(s) failed: {', '.join(failed)}" if failed else "no failure"
        # A wave's work runs once per batch, so the recap holds only the hosts that ran a task: count the run's.
        done = f"{self._total} resources" if self._total is not None else f"{len(hosts)} hosts"
        self._line(f"done: {done}, {changed} changes, {verdict}", color="red" if failed else "green")
