"""The execution environment's build context, made offline by ansible-builder from awx/execution-environment.yml."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
builder = BIN / "ansible-builder"


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    if not builder.exists():
        pytest.skip("ansible-builder is not installed (make setup installs requirements.txt)")
    work = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "ee-collections.yml"):
        shutil.copy(REPO_ROOT / "awx" / name, work / name)
    built = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                            str(work / "context-collections"), str(REPO_ROOT)],
                           capture_output=True, text=True, check=False, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    created = subprocess.run([str(builder), "create", "-f", "execution-environment.yml", "-c", "context",
                              "--output-filename", "Containerfile"],
                             cwd=work, capture_output=True, text=True, check=False, timeout=300)
    assert created.returncode == 0, created.stdout + created.stderr
    return work / "context"


def test_collection_declares_its_ee_dependencies():
    meta = yaml.safe_load((REPO_ROOT / "meta" / "execution-environment.yml").read_text())
    python = (REPO_ROOT / meta["dependencies"]["python"]).read_text()
    assert {"boto3", "botocore"} <= {line.split(">")[0].split("=")[0].strip() for line in python.splitlines()
                                     if line.strip() and not line.startswith("#")}
    assert (REPO_ROOT / meta["dependencies"]["system"]).is_file()


def test_builder_creates_the_context_with_ansible_core_boto3_and_this_collection(context):
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-core==2.19.14" in containerfile
    assert "ansible-galaxy collection install" in containerfile or "install-from-bindep" in containerfile
    build = context / "_build"
    assert "boto3==1.44.5" in (build / "requirements.txt").read_text()
    collections = yaml.safe_load((build / "requirements.yml").read_text())["collections"]
    names = {c["name"] for c in collections}
    assert "amazon.aws" in names
    assert "/build/collections/enterprise_dr-orchestration-0.1.0.tar.gz" in names
    tarball = build / "collections" / "enterprise_dr-orchestration-0.1.0.tar.gz"
    with tarfile.open(tarball) as archive:
        members = set(archive.getnames())
    # ansible-builder finds the collection's own Python dependencies in the installed collection at build time.
    assert {"meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/bindep.txt"} <= members
    assert not [m for m in members if m.startswith((".venv", ".sandbox", ".collections"))]
