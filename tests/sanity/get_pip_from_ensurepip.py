#!/usr/bin/env python
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test bootstraps pip into each of its empty sanity virtualenvs by running
``get-pip-<version>.py`` from ci-files.testing.ansible.com, cached as
``~/.ansible/test/cache/get_pip_<version>.py``. That host is not reachable from every build
machine (PyPI is), so run_sanity.py places this script in the cache instead. It takes the same
command line as get-pip.py (pip install options and requirements, plus ``--no-setuptools`` and
``--no-wheel``) and runs pip from the wheel bundled with the interpreter's ``ensurepip``, which then
installs the pinned pip version that ansible-test asked for from the package index.
"""

import glob
import os
import re
import sys


def bundled_pip_wheel():
    """Return the path of the pip wheel that ships with this interpreter's ensurepip."""
    try:
        import ensurepip
    except ImportError:
        sys.exit("ensurepip is not available for %s: install the python3-venv package of the distribution."
                 % sys.executable)

    get_packages = getattr(ensurepip, "_get_packages", None)
    if get_packages is not None:
        package = get_packages().get("pip")
        wheel_path = getattr(package, "wheel_path", None)
        if wheel_path and os.path.exists(wheel_path):
            return wheel_path
        wheel_name = getattr(package, "wheel_name", None)
        if wheel_name:
            candidate = os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", wheel_name)
            if os.path.exists(candidate):
                return candidate

    wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
    if not wheels:
        sys.exit("No pip wheel found beside %s: this interpreter's ensurepip cannot bootstrap pip."
                 % ensurepip.__file__)
    return wheels[-1]


def pip_install_arguments(argv):
    """Translate get-pip.py's command line into a pip install command line."""
    args = ["install", "--upgrade", "--force-reinstall"]
    requirements = []
    for arg in argv:
        if arg in ("--no-setuptools", "--no-wheel"):
            continue
        args.append(arg)
        if not arg.startswith("-"):
            requirements.append(arg)
    if not any(re.split(r"[<>=!~\[;\s]", req, maxsplit=1)[0].lower() == "pip" for req in requirements):
        args.append("pip")
    return args


def main():
    """Run pip from the bundled wheel to install the requested packages."""
    sys.path.insert(0, bundled_pip_wheel())
    from pip._internal.cli.main import main as pip_main

    sys.exit(pip_main(pip_install_arguments(sys.argv[1:])))


if __name__ == "__main__":
    main()
