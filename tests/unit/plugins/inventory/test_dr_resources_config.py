# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory files are validated like operator variables: unknown keys, bad IDs and ARNs, hub-only accounts."""

import pytest

from ansible.errors import AnsibleParserError

from ansible_collections.enterprise_dr.orchestration.plugins.inventory.dr_resources import InventoryModule

WA = "210987654321"
ROLE = f"arn:aws:iam::{WA}:role/EnterpriseDRWorkloadRole"


@pytest.fixture
def plugin(monkeypatch):
    module = InventoryModule()
    options = {"accounts": [], "primary_region": "us-east-1", "dr_region": "us-west-2", "endpoint_url": None}
    monkeypatch.setattr(module, "get_option", lambda name, hostvars=None: options[name])
    module.options = options
    module._config_path = "/inv/prod.dr_resources.yml"
    module.templar = None
    monkeypatch.setattr(module, "_template", lambda value: value)
    return module


@pytest.mark.parametrize("entry,message", [
    ({"account_id": WA, "rolearn": ROLE},
     "accounts[0] (account_id 210987654321): unknown key 'rolearn'; did you mean role_arn? fix: rename it to role_arn"),
    ({"account_id": WA, "role_arn": ROLE, "externalid": "x"}, "did you mean external_id?"),
    ({"account_id": WA, "Profile": "p"}, "did you mean profile?"),
    ({"account_id": "21098765432"}, "'21098765432' is not a 12-digit AWS account ID; fix:"),
    ({"account_id": "2109-8765-4321"}, "is not a 12-digit AWS account ID"),
    ({"account_id": "２１０９８７６５４３２１"}, "is not a 12-digit AWS account ID"),
    ({"account_id": True}, "is not a 12-digit AWS account ID"),
    ({"account_id": WA, "role_arn": "EnterpriseDRWorkloadRole"}, "is not an IAM role ARN; fix: role_arn:"),
    ({"account_id": WA, "external_id": "x"}, "external_id is given without role_arn"),
    ({"account_id": WA, "name": 12}, "name must be a string"),
])
def test_a_bad_account_entry_is_refused_with_the_file_the_key_and_the_fix(plugin, entry, message):
    plugin.options["accounts"] = [entry]
    with pytest.raises(AnsibleParserError) as raised:
        plugin._account_specs()
    assert str(raised.value).startswith("/inv/prod.dr_resources.yml: ")
    assert message in str(raised.value)


def test_unknown_top_level_keys_are_refused(plugin):
    plugin._options = {"plugin": None, "accounts": None, "strict": None, "dr_region": None}
    with pytest.raises(AnsibleParserError) as raised:
        plugin._check_top_level_keys({"plugin": "x", "accounts": [], "stict": True})
    assert "unknown key 'stict'; did you mean strict?" in str(raised.value)


class _Sts:
    def __init__(self, account):
        self.account = account

    def get_caller_identity(self):
        return {"Account": self.account}


class _Session:
    def __init__(self, account):
        self.account = account

    def client(self, service, **kwargs):
        assert service == "sts"
        return _Sts(self.account)


def test_an_account_without_profile_or_role_must_be_the_hubs_own(plugin):
    specs = [{"account_id": "123456789012"}, {"account_id": WA, "role_arn": ROLE}]
    plugin._check_hub_only_accounts(_Session("123456789012"), specs)  # the hub itself: fine
    with pytest.raises(AnsibleParserError) as raised:
        plugin._check_hub_only_accounts(_Session("999999999999"), specs)
    text = str(raised.value)
    assert "123456789012 have neither profile nor role_arn" in text and "belong to account 999999999999" in text
    assert "fix: add role_arn: arn:aws:iam::123456789012:role/<name>" in text
