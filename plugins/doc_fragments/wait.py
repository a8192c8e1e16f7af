# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Paired with WAIT_ARGUMENT_SPEC in plugins/module_utils/args_common.py
    DOCUMENTATION = r"""
options:
  wait:
    description: Wait until the operation has finished before returning.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait before giving up. A timeout fails the task and names what is unfinished.
    type: int
    default: 3600
  poll_interval:
    description:
      - The longest pause, in seconds, between two polls of the AWS API while waiting. Polls are batched per account
        and region.
      - The first pause is half a second and each pause doubles up to this interval, so an operation that finishes or
        fails within seconds is seen at once. With the default of 30, a wait polls 6 times in its first 32 seconds,
        then every 30 seconds.
    type: int
    default: 30
"""
