# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drs_failback_cleanup module, run in Ansible's worker process on a local connection.

plugin_utils/in_process.py says how and when.
"""

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.in_process import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    pass
