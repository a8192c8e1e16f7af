# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one module base class of the collection.

Every module subclasses nothing else: it gets amazon.aws's standard credentials, region,
endpoint and retry handling, and every AWS request names this collection in its user agent.
"""

from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import access_denied_advice
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import COLLECTION_NAME
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import COLLECTION_VERSION


class DRModule(AnsibleAWSModule):
    """AnsibleAWSModule that stamps enterprise_dr.orchestration into the user agent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        super().__init__(**kwargs)
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)

    def fail_json_aws(self, exception, msg=None, **kwargs):
        """amazon.aws's fail_json_aws, naming the policy to fix when AWS answered AccessDenied."""
        advice = access_denied_advice(exception)
        if advice:
            msg = f"{msg}: {advice}" if msg else advice
        super().fail_json_aws(exception, msg=msg, **kwargs)

    def _should_inject_warnings(self):
        # ansible-core 2.19+ returns every module.warn() by itself. amazon.aws (10.x) also passes them to
        # exit_json as ``warnings``, which repeats each warning and adds a deprecation warning to every run.
        return False
