"""The built collection ships the plugins, roles and playbooks, and no runtime state, logs, virtualenvs or caches."""

import shutil
import subprocess
import tarfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
GALAXY = REPO_ROOT / ".venv" / "bin" / "ansible-galaxy"

# What a working copy collects while people run the demo, tests and benchmarks (observation 10 of issue 12).
JUNK = [
    ".sandbox/dr_audit.jsonl", ".sandbox/sandbox.pid", ".sandbox/env.sh", ".sandbox/state/estate_vars.yml",
    "roles/wave/.sandbox/x.json", "audit/pending-updates.jsonl", "logs/run.log", "failover.log",
    ".venv/bin/python", "venv/lib/x.py", ".pytest_cache/v/cache/lastfailed", ".ruff_cache/0.1/x",
    "tests/.pytest_cache/x", "plugins/modules/__pycache__/x.cpython-311.pyc", "bench/results/latest.json",
    "results/figures.json", "tests/output/junit.xml", ".ansible/tmp/x", "enterprise_dr-orchestration-0.0.9.tar.gz",
    "playbooks/failover.retry", "roles/preflight/tasks/plan.yml.orig", "plugins/filter/.dr_wave_plan.py.swp",
    ".collections/ansible_collections/x", ".worktrees/other/galaxy.yml",
]
SHIPPED = ["MANIFEST.json", "FILES.json", "meta/runtime.yml", "plugins/action/operator_vars.py",
           "plugins/inventory/dr_resources.py", "plugins/modules/drs_recover.py", "plugins/module_utils/drs.py",
           "plugins/plugin_utils/operator_specs.py", "plugins/filter/dr_wave_plan.py", "plugins/callback/dr_audit.py",
           "plugins/vars/dr_controller.py", "roles/preflight/tasks/plan.yml", "roles/approval_gate/tasks/main.yml",
           "playbooks/failover.yml", "playbooks/drill.yml", "playbooks/failback.yml", "README.md"]


def _copy_with_junk(target):
    """The working copy (tracked and untracked source, without .git and the venv) plus the junk above."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        source = REPO_ROOT / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for name in JUNK:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text("runtime state\n")


def test_the_tarball_ships_the_collection_and_none_of_the_junk(tmp_path):
    source, output = tmp_path / "orchestration", tmp_path / "dist"
    _copy_with_junk(source)
    built = subprocess.run([str(GALAXY), "collection", "build", str(source), "--output-path", str(output)],
                           capture_output=True, text=True, check=False, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    tarballs = list(output.glob("enterprise_dr-orchestration-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(tarballs[0]) as archive:
        names = {member.name.rstrip("/") for member in archive.getmembers()}
    for name in SHIPPED:
        assert name in names, f"{name} is missing from the tarball"
    assert any(n.startswith("roles/") and n.endswith("/meta/main.yml") for n in names)
    assert sorted(set(JUNK) & names) == []
    junk_dirs = {".sandbox", ".venv", "venv", ".git", ".pytest_cache", ".ruff_cache", "__pycache__", "results",
                 ".collections", ".worktrees", ".ansible", "logs", "build", ".ci"}
    assert sorted(n for n in names if junk_dirs & set(n.split("/")[:-1] + [n.split("/")[0]])) == []
    forbidden = (".jsonl", ".log", ".pid", ".pyc", ".retry", ".orig", ".swp", ".tar.gz")
    assert sorted(n for n in names if n.endswith(forbidden)) == []
    assert "tests/output" not in names and "bench/results" not in names
