"""sandbox.harness.crash: a killed run leaves no process behind that could go on calling AWS.

ansible-core starts each worker in a session of its own, so killing the controller's process group leaves the
workers and their modules running; the kill-and-resume tests rely on crash() ending all of them.
"""

import subprocess
import sys
import time
from pathlib import Path

from sandbox.harness import REPO_ROOT
from sandbox.harness import _descendants
from sandbox.harness import crash

PLAYBOOK = """
- name: A long task, as a module waiting on AWS is
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait
      ansible.builtin.command: sleep {marker}
"""


def _running(marker):
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().replace(b"\0", b" ").strip() == f"sleep {marker}".encode():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def test_crash_ends_the_controller_its_workers_and_their_modules(tmp_path):
    marker = 4000 + (int(time.time()) % 1000)  # a sleep no other process runs
    playbook = tmp_path / "long.yml"
    playbook.write_text(PLAYBOOK.format(marker=marker))
    process = subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,",
                                "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
                                str(playbook)], cwd=str(tmp_path), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _running(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_running(marker)) == 1, "the playbook never reached its long task"
        [module] = _running(marker)
        assert module in _descendants(process.pid)  # the module is the run's, in a session of its own
        crash(process)
        assert process.returncode is not None
        assert _running(marker) == []
    finally:
        if process.poll() is None:
            process.kill()
