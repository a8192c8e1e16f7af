# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test module: returns its ``record`` option under ``dr_record``, the way the collection's modules report
what they did, and fails with ``fail_msg`` when given."""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"record": {"type": "dict"}, "fail_msg": {"type": "str"},
                                          "remediation": {"type": "str"}},
                           supports_check_mode=True)
    result = {"changed": True}
    if module.params["record"]:
        result["dr_record"] = module.params["record"]
    if module.params["fail_msg"]:
        module.fail_json(msg=module.params["fail_msg"], remediation=module.params["remediation"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
