# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option sets shared by many modules, each paired with a doc fragment of the same name.

- ACCOUNTS_ARGUMENT_SPEC  <-> enterprise_dr.orchestration.accounts
- WAIT_ARGUMENT_SPEC      <-> enterprise_dr.orchestration.wait
- SCOPE_ARGUMENT_SPEC (module_utils/scope.py) <-> enterprise_dr.orchestration.scope
"""

ACCOUNTS_ARGUMENT_SPEC = dict(
    accounts=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            account_id=dict(type="str", required=True),
            name=dict(type="str"),
            profile=dict(type="str"),
            role_arn=dict(type="str"),
            external_id=dict(type="str", no_log=True),
            session_name=dict(type="str"),
        ),
        mutually_exclusive=[["profile", "role_arn"]],
    ),
)

WAIT_ARGUMENT_SPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=3600),
    poll_interval=dict(type="int", default=30),
)
