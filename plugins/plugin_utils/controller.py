# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts about the controller process (ansible-playbook) that approval gates and the record need.

Action plugins run in a forked worker whose standard input is /dev/null: the terminal question is
asked of the ansible-playbook process itself, through /proc.
"""

import multiprocessing
import os
import socket
import sys


def controller_pid():
    """The ansible-playbook process: this one, or the parent when running in a forked worker."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None else os.getpid()


def stdin_is_terminal():
    """True when ansible-playbook's standard input is a terminal (someone can answer a prompt)."""
    pid = controller_pid()
    try:
        if pid == os.getpid():
            return os.isatty(sys.stdin.fileno())
        fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            return os.isatty(fd)
        finally:
            os.close(fd)
    except (AttributeError, ValueError, OSError):
        return False


def controller_facts():
    return {"interactive": stdin_is_terminal(), "host": socket.gethostname(), "pid": controller_pid()}
