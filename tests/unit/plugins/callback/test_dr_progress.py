# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dr_progress stdout callback with fake results: what an operator sees, and what stays hidden."""

import json
import os
import pathlib
import subprocess

from ansible_collections.enterprise_dr.orchestration.plugins.callback.dr_progress import CallbackModule

REPO = pathlib.Path(__file__).resolve().parents[4]


class FakeDisplay:
    def __init__(self, verbosity=0):
        self.verbosity = verbosity
        self.lines = []

    def display(self, msg, color=None, **_kwargs):
        self.lines.append(msg)

    def __getattr__(self, name):  # warning, deprecated, banner ... of the default callback
        return lambda *args, **kwargs: self.lines.append(f"{name}: {args[0] if args else ''}")


class FakeTask:
    def __init__(self, name, action):
        self.name = name
        self.action = action
        self.no_log = False
        self.loop = None
        self.check_mode = False
        self._role = None

    def get_name(self):  # as Ansible's: a role's tasks are "<role> : <name>"
        return f"{self._role.get_name()} : {self.name}" if self._role else self.name


class FakeHost:
    def get_name(self):
        return "localhost"


class FakeResult:
    def __init__(self, task, result):
        self._task = task
        self._result = result
        self._host = FakeHost()


class FakePlay:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


def callback(verbosity=0, all_resources=True):
    cb = CallbackModule()
    cb._display = FakeDisplay(verbosity)
    cb._hide = {"Say the wave is skipped"}
    cb._all_resources = all_resources
    return cb


class FakeRole:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


def record_result(wave, status, entries):
    return FakeResult(FakeTask("Record each resource's result and the wave's outcome",
                               "enterprise_dr.orchestration.execution_record"),
                      {"changed": False, "invocation": {"module_args": {
                          "action": "update", "wave": {"number": wave, "phase": "INSTANTIATE", "status": status},
                          "resources": entries}}})


def test_compact_output_shows_phase_wave_progress_and_each_resource():
    cb = callback()
    cb.v2_playbook_on_play_start(FakePlay("PLAN - validate the variables"))
    cb.v2_runner_on_ok(FakeResult(FakeTask("Plan the run", "ansible.builtin.set_fact"),
                                  {"ansible_facts": {"dr_run": {"hosts": ["web01", "web02", "db01"]}}}))
    cb.v2_playbook_on_play_start(FakePlay("INSTANTIATE - prepare the DR side, wave by wave"))
    cb.v2_playbook_on_play_start(FakePlay("INSTANTIATE - prepare the DR side, wave by wave"))  # the next serial batch
    cb.v2_playbook_on_task_start(FakeTask("List the wave's DRS servers", "ansible.builtin.set_fact"), False)
    cb.v2_runner_on_ok(FakeResult(FakeTask("List the wave's DRS servers", "ansible.builtin.set_fact"),
                                  {"ansible_facts": {"x": 1}}))
    cb.v2_runner_on_ok(FakeResult(FakeTask("Say the wave is skipped", "ansible.builtin.debug"),
                                  {"msg": "wave 9 has nothing to do"}))
    cb.v2_runner_on_skipped(FakeResult(FakeTask("End this batch", "ansible.builtin.meta"), {}))
    cb.v2_runner_on_ok(record_result(1, "succeeded", [
        {"resource": "s-1", "name": "db01", "status": "succeeded", "phase": "INSTANTIATE",
         "summary": "launched into i-0aaa with 10.0.0.5"}]))
    cb.v2_runner_on_ok(record_result(2, "failed", [
        {"resource": "s-2", "name": "web01", "status": "succeeded", "phase": "INSTANTIATE",
         "after": {"ec2_instance_id": "i-0bbb"}},
        {"resource": "s-3", "name": "web02", "status": "failed", "phase": "INSTANTIATE",
         "error": "target is running", "remediation": "stop i-0ccc"}]))
    cb.v2_runner_on_ok(FakeResult(FakeTask("Print the summary", "ansible.builtin.debug"),
                                  {"msg": ["FAILOVER acme SUCCEEDED", "Wave 1: INSTANTIATE 12s"]}))
    cb.v2_runner_on_ok(FakeResult(FakeTask("Status as JSON", "ansible.builtin.debug"),
                                  {"_status_info.status": {"status": "succeeded", "rto": {"met": True}}}))
    text = "\n".join(cb._display.lines)
    # A dict is printed as JSON, one line per top-level key.
    status = text[text.index("    {"):text.index("    }") + 5]
    assert json.loads(status.replace("\n    ", "\n")) == {"status": "succeeded", "rto": {"met": True}}
    assert '    "rto": {"met": true},' in text
    assert text.count("INSTANTIATE - prepare the DR side, wave by wave") == 1
    assert "INSTANTIATE wave 1 succeeded - 1/3 resources done" in text
    assert "INSTANTIATE wave 2 failed - 3/3 resources done" in text
    assert "db01  succeeded  launched into i-0aaa with 10.0.0.5" in text
    assert "web01  succeeded  ec2_instance_id i-0bbb" in text
    assert "ERROR target is running | FIX stop i-0ccc" in text
    assert "    FAILOVER acme SUCCEEDED" in text
    # Bookkeeping stays hidden: no task banners, no facts, no skipped task, no hidden debug.
    assert "List the wave's DRS servers" not in text and "End this batch" not in text
    assert "nothing to do" not in text
    assert all(line.startswith(("[", "    ")) for line in cb._display.lines), cb._display.lines


def test_by_default_a_resource_line_only_for_failures_and_the_wave_counts_every_resource_of_the_wave(monkeypatch):
    from ansible import context

    monkeypatch.setattr(context, "CLIARGS", {"check": False})
    cb = callback(all_resources=False)
    cb.v2_playbook_on_play_start(FakePlay("ACTIVATE - promote the DR side"))
    cb.v2_runner_on_ok(FakeResult(FakeTask("Plan the run", "ansible.builtin.set_fact"), {"ansible_facts": {"dr_run": {
        "hosts": ["db01", "orders", "web01", "web02"],
        "waves": [{"wave": 1, "count": 2, "hosts": ["db01", "orders"]},
                  {"wave": 2, "count": 2, "hosts": ["web01", "web02"]}]}}}))
    show = FakeTask("Show what ACTIVATE would do to each global database (dry run)", "ansible.builtin.debug")
    show._role = FakeRole("enterprise_dr.orchestration.adapter_aurora")
    cb.v2_runner_on_ok(FakeResult(show, {"msg": ["ACTIVATE wave 1", "orders: switchover to us-west-2"]}))
    # Wave 1: only the DRS server had an ACTIVATE entry; the Aurora database took no part. Both are through it.
    cb.v2_runner_on_ok(record_result(1, "succeeded", [
        {"resource": "s-1", "name": "db01", "status": "succeeded", "phase": "ACTIVATE", "summary": "checks passed"}]))
    cb.v2_runner_on_ok(record_result(2, "failed", [
        {"resource": "s-2", "name": "web01", "status": "succeeded", "phase": "ACTIVATE", "summary": "checks passed"},
        {"resource": "s-3", "name": "web02", "status": "failed", "phase": "ACTIVATE",
         "error": "health check failed", "remediation": "look at the application log"}]))
    text = "\n".join(cb._display.lines)
    assert "INSTANTIATE wave 1 succeeded - 2/4 resources done" in text  # record_result's phase
    assert "INSTANTIATE wave 2 failed - 4/4 resources done" in text
    assert "checks passed" not in text  # the resources that succeeded have no line of their own
    assert "web02  failed     ACTIVATE failed | ERROR health check failed | FIX look at the application log" in text
    assert "switchover to us-west-2" not in text  # the adapter's message: the record says the same
    # In a dry run nothing is recorded: the adapter's message is the prediction, and it is shown.
    monkeypatch.setattr(context, "CLIARGS", {"check": True})
    cb.v2_runner_on_ok(FakeResult(show, {"msg": ["ACTIVATE wave 1", "orders: switchover to us-west-2"]}))
    assert cb._display.lines[-1] == "    orders: switchover to us-west-2"


def test_failures_are_always_shown_and_ignored_ones_are_not():
    cb = callback()
    cb.v2_runner_on_failed(FakeResult(FakeTask("Refuse servers whose replication is not ready", "assert"),
                                      {"msg": "2 DRS server(s) are not ready"}))
    cb.v2_runner_on_failed(FakeResult(FakeTask("Probe", "command"), {"msg": "ignored"}), ignore_errors=True)
    assert len(cb._display.lines) == 1
    assert "FAILED localhost: Refuse servers whose replication is not ready: 2 DRS server(s) are not ready" in \
        cb._display.lines[0]


def test_verbose_output_is_the_default_callbacks(monkeypatch):
    from ansible.plugins.callback.default import CallbackModule as DefaultCallback

    calls = []
    monkeypatch.setattr(DefaultCallback, "v2_playbook_on_task_start", lambda self, task, cond: calls.append(task.name))
    monkeypatch.setattr(DefaultCallback, "v2_runner_on_skipped", lambda self, result: calls.append("skipped"))
    cb = callback(verbosity=1)
    cb.v2_playbook_on_task_start(FakeTask("List the wave's DRS servers", "ansible.builtin.set_fact"), False)
    cb.v2_runner_on_skipped(FakeResult(FakeTask("End this batch", "ansible.builtin.meta"), {}))
    assert calls == ["List the wave's DRS servers", "skipped"]
    quiet = callback(verbosity=0)
    quiet.v2_playbook_on_task_start(FakeTask("List the wave's DRS servers", "ansible.builtin.set_fact"), False)
    assert calls == ["List the wave's DRS servers", "skipped"] and quiet._display.lines == []


def test_a_real_playbook_with_the_callback(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text("""
- name: INSTANTIATE - a phase
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Bookkeeping
      ansible.builtin.set_fact:
        something: 1
    - name: Show the plan
      ansible.builtin.debug:
        msg: [wave 1, "  db01 -> i-0aaa"]
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_INVENTORY="localhost,",
               ANSIBLE_STDOUT_CALLBACK="enterprise_dr.orchestration.dr_progress",
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.timer",
               ANSIBLE_NOCOLOR="1")
    binary = REPO / ".venv" / "bin" / "ansible-playbook"
    out = subprocess.run([str(binary), str(playbook)], cwd=str(REPO), env=env, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "INSTANTIATE - a phase" in out.stdout and "    db01 -> i-0aaa" in out.stdout
    assert "Bookkeeping" not in out.stdout and "TASK [" not in out.stdout
    verbose = subprocess.run([str(binary), str(playbook), "-v"], cwd=str(REPO), env=env, capture_output=True,
                             text=True, check=False)
    assert "TASK [Bookkeeping]" in verbose.stdout


class FakeStats:
    def __init__(self, hosts):
        self.processed = {h: 1 for h in hosts}
        self._failed = {"web02"}

    def summarize(self, host):
        return {"failures": 1 if host in self._failed else 0, "unreachable": 0, "changed": 2}


def test_the_last_line_counts_the_runs_resources_not_the_hosts_that_ran_a_task():
    cb = callback()
    cb.v2_runner_on_ok(FakeResult(FakeTask("Plan the run", "ansible.builtin.set_fact"),
                                  {"ansible_facts": {"dr_run": {"hosts": ["db01", "web01", "web02"], "waves": []}}}))
    cb.v2_playbook_on_stats(FakeStats(["localhost", "db01", "web02"]))  # web01 ran no task of its own
    assert cb._display.lines[-1].endswith("done: 3 resources, 6 changes, 1 host(s) failed: web02")
