#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: approval_prompt
version_added: 0.1.0
short_description: Ask the operator for an explicit approval at the terminal, with a timeout
description:
  - Shows O(prompt) on the terminal of the controller and reads one line.
  - Only an answer listed in O(expected) (case and surrounding spaces ignored) approves.
    An empty answer, any other answer, Ctrl+C or no answer within O(timeout) seconds refuses.
  - Without a terminal (cron, CI) it does not wait and returns RV(interactive=false), so the caller
    can explain the non-interactive approval mode instead of approving by default as
    M(ansible.builtin.pause) would.
  - This is an action plugin; it always runs on the controller.
options:
  prompt:
    description: The question, naming what is approved and which answer approves.
    type: str
    required: true
  expected:
    description: The answers that approve, for example the customer name or C(approve).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait for an answer.
    type: int
    default: 1800
attributes:
  check_mode:
    support: full
    description: The prompt is shown in check mode as well; it changes nothing.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff to show.
  platform:
    support: full
    platforms: all
    description: Runs on the controller, whatever the target host.
author:
  - Enterprise DR maintainers (@enterprise_dr)
"""

EXAMPLES = r"""
- name: Ask for approval before ACTIVATE
  enterprise_dr.orchestration.approval_prompt:
    prompt: "Type the customer name (acme) to fail over wave 1, anything else cancels"
    expected: [acme]
    timeout: 1800
  register: answer
"""

RETURN = r"""
approved:
  description: Whether the answer approves.
  type: bool
  returned: always
answer:
  description: What the operator typed.
  type: str
  returned: always
interactive:
  description: False when no terminal was attached, so nobody could be asked.
  type: bool
  returned: always
timed_out:
  description: True when nothing was answered within O(timeout) seconds.
  type: bool
  returned: always
elapsed_seconds:
  description: How long the operator took.
  type: float
  returned: when asked
"""
