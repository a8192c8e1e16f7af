# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's modules run in Ansible's worker on a local connection, with the same results as a process."""

import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[4]

PLAYBOOK = """
- name: The execution record, in the worker or as a process
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start a record
      enterprise_dr.orchestration.execution_record:
        action: start
        customer: acme
        operation: drill
        store: file
        store_path: "{store}"
      register: started

    - name: A bad value is refused as the module refuses it
      enterprise_dr.orchestration.execution_record:
        action: update
        execution_id: "{{{{ started.execution_id }}}}"
        status: bogus
        store: file
        store_path: "{store}"
      register: refused
      ignore_errors: true

    - name: Finish it in check mode, with the diff
      enterprise_dr.orchestration.execution_record:
        action: finish
        execution_id: "{{{{ started.execution_id }}}}"
        status: succeeded
        store: file
        store_path: "{store}"
      check_mode: true
      diff: true
      register: finished

    - name: Keep the results
      ansible.builtin.copy:
        content: "{{{{ {{'started': started, 'refused': refused, 'finished': finished}} | to_json }}}}"
        dest: "{out}"
        mode: "0600"
"""


def _run(tmp_path, label, in_process):
    store, out = tmp_path / f"store-{label}", tmp_path / f"{label}.json"
    playbook = tmp_path / f"{label}.yml"
    playbook.write_text(PLAYBOOK.format(store=store, out=out))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_INVENTORY="localhost,", ANSIBLE_NOCOLOR="1",
               EDR_MODULES_IN_PROCESS="1" if in_process else "0")
    completed = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), str(playbook), "-vvv", "-c", "local",
                                "-e", f"ansible_python_interpreter={sys.executable}"],
                               cwd=str(REPO), env=env, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    return json.loads(out.read_text()), completed.stdout, store


def _comparable(result):
    keep = ("changed", "failed", "msg", "record", "summary", "diff")
    record = {k: v for k, v in result.items() if k in keep}
    for side in [record.get("record") or {}, record.get("summary") or {}] + list((record.get("diff") or {}).values()):
        for key in ("execution_id", "started_at", "updated_at", "ended_at", "controller", "started_by",
                    "duration_seconds", "elapsed_seconds", "estimated_completion", "rto"):
            side.pop(key, None)
    return record


def test_in_the_worker_the_results_are_the_modules_and_no_module_process_starts(tmp_path):
    inside, inside_out, inside_store = _run(tmp_path, "inside", in_process=True)
    process, process_out, _store = _run(tmp_path, "process", in_process=False)
    # Ansible starts a module process (and says which file) only when the module is not run in the worker.
    assert "Using module file" not in inside_out.split("TASK [Keep the results]")[0]
    assert "Using module file" in process_out
    # The same results: the record started, the refusal with the module's own message, check mode's prediction.
    for name in ("started", "refused", "finished"):
        assert _comparable(inside[name]) == _comparable(process[name]), name
    assert inside["started"]["changed"] is True and inside["started"]["execution_id"].startswith("edr-acme-")
    assert inside["refused"]["failed"] is True and "value of status must be one of" in inside["refused"]["msg"]
    assert inside["finished"]["changed"] is True and inside["finished"]["diff"]["after"]["status"] == "succeeded"
    # Check mode wrote nothing: the record on disk was not finished as succeeded (the dr_audit callback closes a
    # record its playbook left running as failed).
    [record_file] = (inside_store / "executions").glob("*.json")
    assert json.loads(record_file.read_text())["status"] == "failed"


LOAD_AS_THE_STRATEGY_DOES = """
import json, sys
from ansible.plugins.loader import action_loader, init_plugin_loader
init_plugin_loader([sys.argv[1]])
module = "ansible_collections.enterprise_dr.orchestration.plugins.modules.execution_record"
before = module in sys.modules
action_loader.get("enterprise_dr.orchestration.execution_record", class_only=True, collection_list=[])
print(json.dumps({"before": before, "after": module in sys.modules,
                  "amazon_aws": "ansible_collections.amazon.aws.plugins.module_utils.modules" in sys.modules}))
"""


def _load_action(in_process):
    env = dict(os.environ, EDR_MODULES_IN_PROCESS="1" if in_process else "0")
    completed = subprocess.run([sys.executable, "-c", LOAD_AS_THE_STRATEGY_DOES, str(REPO / ".collections")],
                               cwd=str(REPO), env=env, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_loading_the_action_plugin_imports_its_module_before_the_worker_is_forked():
    # The linear strategy loads a task's action plugin class in the controller before forking the worker: the
    # module (and amazon.aws's module_utils it imports) is then already imported in every worker.
    assert _load_action(in_process=True) == {"before": False, "after": True, "amazon_aws": True}
    # With the plugin switched off, the module runs as a process: nothing is imported in the controller for it.
    assert _load_action(in_process=False) == {"before": False, "after": False, "amazon_aws": False}


def test_the_module_of_an_action_plugin():
    from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import in_process

    assert in_process.module_of("ansible_collections.enterprise_dr.orchestration.plugins.action.drs_recover") == (
        "ansible_collections.enterprise_dr.orchestration.plugins.modules.drs_recover")
    assert in_process.module_of("ansible.plugins.action.command") == ""
