from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_describe import dr_describe

ROW = {"hostname": "acme-prod-web01", "method": "exact", "changed": True, "changes": ["launch_into_instance_id"],
       "target": {"name": "ACME-PROD-WEB01", "instance_id": "i-0123", "private_ip": "10.20.1.11"}}


def test_a_planned_launch_into_change_says_would_change_and_a_made_one_says_changed():
    assert dr_describe(ROW, "launch_into").endswith("[exact match] - would change ['launch_into_instance_id']")
    assert dr_describe(ROW, "launch_into", done=True).endswith("[exact match] - changed ['launch_into_instance_id']")


def test_a_server_already_configured_says_so_either_way():
    row = dict(ROW, changed=False, changes=[])
    assert dr_describe(row, "launch_into").endswith("- already configured")
    assert dr_describe(row, "launch_into", done=True).endswith("- already configured")
