# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timing
type: aggregate
short_description: Writes every task's start, end, action and host counts to a JSON file (benchmarks)
description:
  - Used by C(python -m bench) to split a playbook's wall time into batch modules, per-host tasks and
    the rest. The file is named by the environment variable C(BENCH_TIMING_FILE).
options: {}
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._file = os.environ.get("BENCH_TIMING_FILE")
        self._tasks = []
        self._plays = []
        self._current = None
        self._started = time.time()

    def _close_current(self, now):
        if self._current is not None:
            self._current["end"] = now
            self._current = None

    def v2_playbook_on_play_start(self, play):
        now = time.time()
        self._close_current(now)
        self._dump(now)
        self._plays.append({"name": play.get_name(), "start": now})

    def _task_start(self, task, handler=False):
        now = time.time()
        self._close_current(now)
        self._current = {
            "play": self._plays[-1]["name"] if self._plays else "",
            "name": task.get_name(),
            "action": task.action,
            "run_once": bool(task.run_once),
            "handler": handler,
            "start": now,
            "results": 0,
            "skipped": 0,
            "last_result": None,
        }
        self._tasks.append(self._current)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, handler=True)

    def _result(self, skipped=False):
        if self._current is not None:
            self._current["results"] += 1
            self._current["skipped"] += 1 if skipped else 0
            self._current["last_result"] = time.time()

    def v2_runner_on_ok(self, result):
        self._result()

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result()

    def v2_runner_on_skipped(self, result):
        self._result(skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._result()

    def v2_playbook_on_stats(self, stats):
        now = time.time()
        self._close_current(now)
        self._dump(now, complete=True)

    def _dump(self, now, complete=False):
        # Written at every play start too, so a run stopped by a timeout still leaves its timings.
        if not self._file:
            return
        with open(self._file, "w", encoding="utf-8") as handle:
            json.dump({"started": self._started, "ended": now, "complete": complete, "plays": self._plays,
                       "tasks": self._tasks}, handle)
