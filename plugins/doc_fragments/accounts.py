# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Paired with ACCOUNTS_ARGUMENT_SPEC in plugins/module_utils/args_common.py
    DOCUMENTATION = r"""
options:
  accounts:
    description:
      - How to reach the workload accounts named by the resources' C(account_id).
      - Each account is reached with a named credentials O(accounts[].profile), or by assuming
        O(accounts[].role_arn) with O(accounts[].external_id) in 900-second sessions that are
        refreshed automatically during long waits.
      - Resources in an account that is not listed use the module's own credentials.
      - One client is created per service, account and region, and reused.
    type: list
    elements: dict
    default: []
    suboptions:
      account_id:
        description: The 12-digit AWS account ID.
        type: str
        required: true
      name:
        description: A readable name for messages.
        type: str
      profile:
        description: A named profile from the AWS config files. Mutually exclusive with O(accounts[].role_arn).
        type: str
      role_arn:
        description: The cross-account role to assume from the module's own credentials.
        type: str
      external_id:
        description: The external ID the role's trust policy requires (C(sts:ExternalId)). Never logged.
        type: str
      session_name:
        description: The role session name, shown in CloudTrail. Defaults to C(enterprise-dr-orchestration).
        type: str
"""
