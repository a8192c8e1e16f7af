# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of the collection's modules inside Ansible's worker process instead of a new Python process.

A wave calls a handful of batch modules per technology and phase. Started the usual way, each is a new Python
process that imports boto3, botocore and amazon.aws before its first AWS call (0.5-1 s on a 2-core controller),
which at 1,000 servers in 10 waves was most of a wave transition. The worker Ansible forks for a task already has
them imported (the dr_resources inventory imported them in the controller), so on a local connection the module's
own ``main()`` runs there: same arguments (with Ansible's internal ones: check mode, diff, no_log, verbosity), same
result (its JSON output is parsed as Ansible parses a module's), same errors. The worker is forked for this task
alone, so nothing the module changes in the process outlives the task.

The module runs as a process of its own, exactly as without this plugin, when:

- the connection is not local (a module meant for another host runs there), or the task uses become, async or
  a task ``environment``;
- ``EDR_MODULES_IN_PROCESS`` is ``0``/``false``/``no`` in the controller's environment (to compare, or to rule the
  plugin out while investigating a problem).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import traceback

from ansible.module_utils import basic
from ansible.module_utils.common import json as module_json
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

PROFILE = "legacy"
LOCAL_CONNECTIONS = ("local", "ansible.builtin.local", "ansible.legacy.local")
DISABLED = ("0", "false", "no", "off")


def in_process_enabled() -> bool:
    return os.environ.get("EDR_MODULES_IN_PROCESS", "1").strip().lower() not in DISABLED


def module_of(action_module_name: str) -> str:
    """The module a collection's action plugin stands for: ``...plugins.action.X`` -> ``...plugins.modules.X``."""
    package, _sep, name = action_module_name.rpartition(".plugins.action.")
    return f"{package}.plugins.modules.{name}" if package.startswith("ansible_collections.") else ""


def preload(action_module_name: str) -> None:
    """Import the module of an action plugin now, in the process that loads the plugin.

    Ansible's strategy loads a task's action plugin in the controller (``action_loader.get(class_only=True)``)
    before it forks the task's worker, so a module imported here is already imported, compiled, and its
    collections' ``meta/runtime.yml`` parsed, in every worker forked for it: about 30 ms a module run less on a
    2-core controller (docs/performance.md). Importing runs no module code beyond its imports and documentation
    strings. A module that cannot be imported here is imported again, and its error reported, when it runs.
    """
    name = module_of(action_module_name)
    if not name or not in_process_enabled():
        return
    try:
        importlib.import_module(name)
    except Exception:  # pylint: disable=broad-exception-caught  # reported by the task that runs it
        return


class InProcessModuleAction(ActionBase):
    """The action of a module of this collection: its ``main()`` in the worker when it can, else the usual way."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def __init_subclass__(cls, **kwargs):
        # An action plugin file defines its ActionModule when Ansible loads it: its module is imported with it.
        super().__init_subclass__(**kwargs)
        preload(cls.__module__)

    def _can_run_in_process(self) -> bool:
        connection = getattr(self._connection, "transport", None) or self._play_context.connection
        return (in_process_enabled() and connection in LOCAL_CONNECTIONS and not self._task.async_val
                and not self._play_context.become and not any(self._task.environment or []))

    def _module_name(self) -> str:
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, collection_list=self._task.collections)
        return context.resolved_fqcn if context.resolved else self._task.action

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no effect since Ansible 2.5
        task_vars = task_vars or {}
        if not self._can_run_in_process():
            result = merge_hash(result, self._execute_module(task_vars=task_vars,
                                                             wrap_async=bool(self._task.async_val)))
            self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        name = self._module_name()
        namespace, collection, module = name.split(".")
        module_args = dict(self._task.args)
        self._update_module_args(name, module_args, task_vars)
        encoder = module_json.get_module_encoder(PROFILE, module_json.Direction.CONTROLLER_TO_MODULE)
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode()
        basic._ANSIBLE_PROFILE = PROFILE
        output = io.StringIO()
        try:
            code = importlib.import_module(f"ansible_collections.{namespace}.{collection}.plugins.modules.{module}")
            with contextlib.redirect_stdout(output):
                code.main()
        except SystemExit:
            pass  # exit_json and fail_json end the module; their result is in the output
        except Exception as e:  # a module that raises: what Ansible reports for a module process that crashed
            return merge_hash(result, {"failed": True, "msg": f"{name} failed: {type(e).__name__}: {e}",
                                       "exception": traceback.format_exc(), "module_stdout": output.getvalue()})
        finally:
            basic._ANSIBLE_ARGS = None
        data = self._parse_returned_data({"stdout": output.getvalue()}, PROFILE)
        remove_internal_keys(data)
        return merge_hash(result, data)
