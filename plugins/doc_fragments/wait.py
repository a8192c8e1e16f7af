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
    description: Seconds between two polls of the AWS API while waiting. Polls are batched per account and region.
    type: int
    default: 30
"""
