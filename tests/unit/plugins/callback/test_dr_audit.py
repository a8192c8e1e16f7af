# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dr_audit callback in real ansible-playbook runs on localhost (no AWS, no network)."""

import json
import os
import pathlib
import subprocess

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex

REPO = pathlib.Path(__file__).resolve().parents[4]
LIBRARY = pathlib.Path(__file__).resolve().parent / "library"
PLAYBOOK_BIN = REPO / ".venv" / "bin" / "ansible-playbook"

START = """
- name: Audit test
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start the run
      enterprise_dr.orchestration.execution_record:
        action: start
        store: file
        store_path: "{{ store_path }}"
        customer: acme
        environment: production
        operation: drill
        started_by: tester
      register: run

    - name: Expose the execution ID
      ansible.builtin.set_fact:
        dr_execution_id: "{{ run.execution_id }}"

    - name: A module reports what it did
      dr_record_emitter:
        record:
          phase: {name: INSTANTIATE, status: running}
          resources:
            - resource: s-1
              name: web01
              status: succeeded
              before: {source_private_ip: 10.0.0.5}
              job_ids: [drsjob-1]

    - name: A failing task without a structured record
      dr_record_emitter:
        fail_msg: target i-123 is running
        remediation: stop i-123 and run the playbook again
      ignore_errors: "{{ ignore | default(false) | bool }}"
"""


def run_playbook(tmp_path, text, extra_env=None, extra_vars=None, check=False):
    playbook = tmp_path / "play.yml"
    playbook.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_LIBRARY=str(LIBRARY),
               EDR_AUDIT_LOG_DIR=str(tmp_path / "audit"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    env.update(extra_env or {})
    args = [str(PLAYBOOK_BIN), "-i", "localhost,", "-c", "local", str(playbook),
            "-e", json.dumps(dict({"store_path": str(tmp_path / "store"),
                                   "ansible_python_interpreter": str(REPO / ".venv" / "bin" / "python")},
                                  **(extra_vars or {})))]
    if check:
        args.append("--check")
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def events(tmp_path):
    lines = (tmp_path / "audit" / "dr_audit.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def only_record(tmp_path):
    store = ex.FileStore(str(tmp_path / "store"))
    [header] = store.list("acme")
    return store.get(header["execution_id"])


@pytest.mark.skipif(not PLAYBOOK_BIN.exists(), reason="make setup builds the virtualenv")
def test_feeds_record_and_marks_unfinished_run_interrupted(tmp_path):
    proc = run_playbook(tmp_path, START)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    record = only_record(tmp_path)
    eid = record["execution_id"]
    [resource] = record["resources"]
    assert resource["before"] == {"source_private_ip": "10.0.0.5"} and resource["job_ids"] == ["drsjob-1"]
    assert record["phases"]["INSTANTIATE"]["status"] == "running"
    [error] = record["errors"]
    assert "target i-123 is running" in error["message"] and error["remediation"].startswith("stop i-123")
    assert error["resource"] == "localhost"
    # The play failed before finishing the record: the run is interrupted, its scope lock kept for the resume
    assert record["status"] == "interrupted"
    assert ex.FileStore(str(tmp_path / "store")).active_run("acme", "production")["execution_id"] == eid
    log = events(tmp_path)
    assert [e["event"] for e in log][:2] == ["playbook_start", "play_start"]
    results = [e for e in log if e["event"] == "task_result"]
    assert results[0]["execution_id"] is None or results[0]["execution_id"] == eid
    assert all(e["correlation_id"] == eid for e in results[2:])
    emitted = next(e for e in results if e.get("dr_record"))
    assert emitted["dr_record"][0]["resources"][0]["resource"] == "s-1"
    assert log[-1]["event"] in ("stats", "run_interrupted")
    assert any(e["event"] == "stats" and e["failures"] == 1 for e in log)


@pytest.mark.skipif(not PLAYBOOK_BIN.exists(), reason="make setup builds the virtualenv")
def test_ignored_failure_is_not_an_error(tmp_path):
    proc = run_playbook(tmp_path, START, extra_vars={"ignore": True})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = only_record(tmp_path)
    assert record["errors"] == []
    assert record["resources"][0]["resource"] == "s-1"
    assert record["status"] == "interrupted"


@pytest.mark.skipif(not PLAYBOOK_BIN.exists(), reason="make setup builds the virtualenv")
def test_check_mode_writes_nothing(tmp_path):
    proc = run_playbook(tmp_path, START, extra_vars={"ignore": True}, check=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ex.FileStore(str(tmp_path / "store")).list("acme") == []
    assert not (tmp_path / "audit" / "pending").exists()
    assert all(e.get("check_mode") for e in events(tmp_path) if e["event"] == "task_result")


@pytest.mark.skipif(not PLAYBOOK_BIN.exists(), reason="make setup builds the virtualenv")
def test_unreachable_store_warns_keeps_pending_updates_and_replays_them(tmp_path):
    env = {"EDR_AUDIT_STORE": "dynamodb", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "EDR_AUDIT_TIMEOUT": "1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    proc = run_playbook(tmp_path, START, extra_env=env, extra_vars={"ignore": True})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "execution store unreachable" in output
    record = only_record(tmp_path)
    pending_file = tmp_path / "audit" / "pending" / f"{record['execution_id']}.jsonl"
    updates = [json.loads(line) for line in pending_file.read_text().splitlines()]
    assert {u["execution_id"] for u in updates} == {record["execution_id"]}
    assert updates[0]["update"]["resources"][0]["resource"] == "s-1"
    assert record["resources"] == []  # nothing reached the store
    assert any(e["event"] == "task_result" for e in events(tmp_path))
    # A playbook of no execution replays nothing; the next one working on this execution replays its updates
    replay = "- name: Replay\n  hosts: localhost\n  gather_facts: false\n  tasks: []\n"
    store_env = {"EDR_AUDIT_STORE": "file", "EDR_AUDIT_STORE_PATH": str(tmp_path / "store")}
    proc = run_playbook(tmp_path, replay, extra_env=store_env)
    assert proc.returncode == 0 and pending_file.exists(), proc.stdout + proc.stderr
    proc = run_playbook(tmp_path, replay, extra_env=store_env, extra_vars={"dr_execution_id": record["execution_id"]})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not pending_file.exists()
    assert only_record(tmp_path)["resources"][0]["before"] == {"source_private_ip": "10.0.0.5"}


def _pending_line(execution_id, resource):
    return json.dumps({"ts": "2026-01-01T00:00:00Z", "execution_id": execution_id,
                       "update": {"resources": [{"resource": resource, "status": "succeeded"}]}}) + "\n"


@pytest.mark.skipif(not PLAYBOOK_BIN.exists(), reason="make setup builds the virtualenv")
def test_pending_updates_are_replayed_only_into_their_own_execution(tmp_path):
    store = ex.FileStore(str(tmp_path / "store"))
    ours = store.start("acme", "production", "drill", "tester")["execution_id"]
    theirs = store.start("globex", "production", "failover", "tester")["execution_id"]
    pending = tmp_path / "audit" / "pending"
    pending.mkdir(parents=True)
    (pending / f"{ours}.jsonl").write_text(_pending_line(ours, "s-ours"))
    (pending / f"{theirs}.jsonl").write_text(_pending_line(theirs, "s-theirs"))
    play = "- name: Work on one run\n  hosts: localhost\n  gather_facts: false\n  tasks: []\n"
    proc = run_playbook(tmp_path, play, extra_vars={"dr_execution_id": ours},
                        extra_env={"EDR_AUDIT_STORE": "file", "EDR_AUDIT_STORE_PATH": str(tmp_path / "store")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [r["resource"] for r in store.get(ours)["resources"]] == ["s-ours"]
    assert store.get(theirs)["resources"] == []
    assert not (pending / f"{ours}.jsonl").exists()
    assert (pending / f"{theirs}.jsonl").read_text() == _pending_line(theirs, "s-theirs")
    assert "globex" not in proc.stdout + proc.stderr and theirs not in proc.stdout + proc.stderr


REFUSED = """
- name: Refused in PREFLIGHT
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start the run
      enterprise_dr.orchestration.execution_record:
        action: start
        store: file
        store_path: "{{ store_path }}"
        customer: acme
        environment: production
        operation: failover
        started_by: tester
      register: run

    - name: Expose the execution ID
      ansible.builtin.set_fact:
        dr_execution_id: "{{ run.execution_id }}"

    - name: PREFLIGHT starts
      enterprise_dr.orchestration.execution_record:
        action: update
        store: file
        store_path: "{{ store_path }}"
        execution_id: "{{ run.execution_id }}"
        phase: {name: PREFLIGHT, status: running}

    - name: A PREFLIGHT check refuses
      dr_record_emitter:
        fail_msg: target i-123 is running
        remediation: stop i-123 and run the playbook again
"""


@pytest.mark.skipif(not PLAYBOOK_BIN.exists(), reason="make setup builds the virtualenv")
def test_run_refused_in_preflight_leaves_no_lock(tmp_path):
    proc = run_playbook(tmp_path, REFUSED)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    record = only_record(tmp_path)
    assert record["status"] == "failed"
    assert record["refused_before_change"]["phase"] == "PREFLIGHT"
    assert "target i-123 is running" in record["errors"][0]["message"]
    store = ex.FileStore(str(tmp_path / "store"))
    assert store.active_runs("acme") == []
    assert not list((tmp_path / "store" / "locks").iterdir())
    # Any next command may start: here a drill of the same scope
    assert store.start("acme", "production", "drill", "tester")["status"] == "running"
