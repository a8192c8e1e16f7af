"""What a DRS launch does to EC2, applied to moto's in-process EC2 backends.

DRS acts in the recovery account and region: it creates instances (new-instance launches), swaps the
volumes of a pre-provisioned target and starts it (launch into instance), and terminates instances of
TERMINATE jobs. Every failure is raised as LaunchError carrying the rawError text DRS writes to the
job log.
"""

from __future__ import annotations

from typing import Any

LAUNCH_INTO_TAG = ("AWSDRS", "AllowLaunchingIntoThisInstance")
MANAGED_TAG = "AWSElasticDisasterRecoveryManaged"
SOURCE_SERVER_TAG = "AWSElasticDisasterRecoverySourceServerID"
GIB = 1024 ** 3


class LaunchError(Exception):
    """A launch step failed; the message is the job log's rawError."""


def backend(account_id: str, region: str):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region]


def find_instance(account_id: str, region: str, instance_id: str):
    """The moto instance, or None when it does not exist in that account and region."""
    ec2 = backend(account_id, region)
    for reservation in ec2.reservations.values():
        for instance in reservation.instances:
            if instance.id == instance_id:
                return instance
    return None


def instance_tags(account_id: str, region: str, instance_id: str) -> dict:
    return dict(backend(account_id, region).tags.get(instance_id, {}))


def ec2_state(account_id: str, region: str, instance_id: str) -> str:
    """DRS's EC2InstanceState for an instance."""
    instance = find_instance(account_id, region, instance_id)
    if instance is None:
        return "NOT_FOUND"
    name = instance.state
    return "SHUTTING-DOWN" if name == "shutting-down" else name.upper()


def create_launch_template(account_id: str, region: str, server_id: str, instance_type: str) -> str:
    """The EC2 launch template DRS creates for every source server; returns its ID."""
    ec2 = backend(account_id, region)
    name = f"drs-launch-template-{server_id}"
    existing = ec2.launch_template_name_to_ids.get(name)
    if existing:
        return existing
    template = ec2.create_launch_template(
        name, f"Launch template for DRS source server {server_id}",
        {"InstanceType": instance_type}, {},
    )
    return template.id


def launch_template_data(account_id: str, region: str, template_id: str | None) -> dict:
    if not template_id:
        return {}
    ec2 = backend(account_id, region)
    template = ec2.launch_templates.get(template_id)
    if template is None:
        return {}
    return dict(template.default_version().data)


def _image_for(ec2, os_name: str) -> str:
    want_windows = os_name == "windows"
    for ami_id, ami in ec2.amis.items():
        if ((ami.platform or "").lower() == "windows") == want_windows and ami.architecture == "x86_64":
            return ami_id
    return next(iter(ec2.amis), "ami-00000000")


def check_launch_into_target(account_id: str, region: str, target_id: str, server: Any, at_launch: bool) -> None:
    """Raise LaunchError unless target_id can receive the server's recovery (DRS's documented prerequisites)."""
    instance = find_instance(account_id, region, target_id)
    if instance is None or instance.state == "terminated":
        raise LaunchError(
            f"Failed to launch into instance {target_id}: the instance does not exist in region {region} "
            f"of account {account_id}."
        )
    tags = instance_tags(account_id, region, target_id)
    if tags.get(LAUNCH_INTO_TAG[0]) != LAUNCH_INTO_TAG[1]:
        raise LaunchError(
            f"Failed to launch into instance {target_id}: the instance must be tagged "
            f"{LAUNCH_INTO_TAG[0]}={LAUNCH_INTO_TAG[1]} to allow launching into it."
        )
    mismatches = []
    target_os = "windows" if (instance.platform or "").lower() == "windows" else "linux"
    if target_os != server.os:
        mismatches.append("Platform")
    if (instance.architecture or "x86_64") != server.architecture:
        mismatches.append("Architecture")
    target_boot = tags.get("BootMode")
    if target_boot and server.boot_mode and target_boot != server.boot_mode:
        mismatches.append("BootMode")
    if mismatches:
        raise LaunchError(
            f"You cannot define the EC2 instance {target_id} as a launch into instance ID as is has conflicting "
            f"instance settings to those of the source server ({server.id}). The following fields have a "
            f"configuration mismatch: {', '.join(mismatches)}."
        )
    if at_launch and instance.state != "stopped":
        raise LaunchError(
            f"Failed to launch into instance {target_id}: the instance needs to be in a stopped state but is in "
            f"a {instance.state} state."
        )


def launch_into(account_id: str, region: str, target_id: str, server: Any, launch_disposition: str) -> dict:
    """Swap the target's volumes for recovered ones and start it. Returns facts for the recovery instance."""
    check_launch_into_target(account_id, region, target_id, server, at_launch=True)
    ec2 = backend(account_id, region)
    instance = find_instance(account_id, region, target_id)
    old = []
    devices = []
    for device, mapping in instance.get_block_device_mapping:
        devices.append(device)
        ec2.detach_volume(mapping.volume_id, target_id, device)
        old.append(mapping.volume_id)
    root_device = instance.root_device_name or "/dev/sda1"
    names = _device_names(root_device, len(server.disks))
    new_volumes = []
    for name, disk in zip(names, server.disks):
        volume = ec2.create_volume(size=max(1, disk["bytes"] // GIB), zone_name=instance.placement.zone,
                                   volume_type="gp3")
        volume.add_tags({MANAGED_TAG: "drs.amazonaws.com", SOURCE_SERVER_TAG: server.id})
        ec2.attach_volume(volume.id, target_id, name, True)
        new_volumes.append({"internalDeviceName": name, "bytes": disk["bytes"], "ebsVolumeID": volume.id})
    if launch_disposition == "STARTED":
        ec2.start_instances([target_id])
    return {"instance_id": target_id, "az": instance.placement.zone, "disks": new_volumes,
            "detached_volumes": old, "private_ip": instance.private_ip}


def _device_names(root: str, count: int) -> list[str]:
    names = [root]
    letters = "fghijklmnop"
    prefix = "/dev/xvd" if root.startswith("/dev/xvd") else "/dev/sd"
    for index in range(1, count):
        names.append(f"{prefix}{letters[(index - 1) % len(letters)]}")
    return names


def launch_new(account_id: str, region: str, server: Any, config: dict) -> dict:
    """Create the recovery instance from the server's launch settings and EC2 launch template."""
    ec2 = backend(account_id, region)
    template = launch_template_data(account_id, region, config.get("ec2LaunchTemplateID"))
    right_sizing = config.get("targetInstanceTypeRightSizingMethod", "NONE")
    instance_type = template.get("InstanceType") or server.instance_type
    if right_sizing in ("BASIC", "IN_AWS") and server.instance_type:
        instance_type = server.instance_type
    tags = {MANAGED_TAG: "drs.amazonaws.com", SOURCE_SERVER_TAG: server.id}
    if config.get("copyTags"):
        tags.update({k: v for k, v in server.tags.items() if not k.startswith("aws:")})
    kwargs: dict[str, Any] = {
        "instance_type": instance_type or "t3.small",
        # moto validates a non-default type against every offering (slow at scale); DRS's type is valid.
        "is_instance_type_default": True,
        "region_name": region,
        "tags": {"instance": tags},
        "nics": [],
    }
    subnet_id = template.get("SubnetId")
    for nic in template.get("NetworkInterfaces") or []:
        subnet_id = subnet_id or nic.get("SubnetId")
    if subnet_id:
        kwargs["subnet_id"] = subnet_id
    if template.get("SecurityGroupIds"):
        kwargs["security_group_ids"] = list(template["SecurityGroupIds"])
    else:  # as EC2 does: an instance launched without security groups gets its VPC's default group
        default_group = _vpc_default_group(ec2, subnet_id)
        if default_group:
            kwargs["security_group_ids"] = [default_group]
    if config.get("copyPrivateIp") and server.private_ip:
        kwargs["private_ip"] = server.private_ip
    names = _device_names("/dev/sda1", len(server.disks))
    kwargs["block_device_mappings"] = [
        {"DeviceName": name, "Ebs": {"VolumeSize": max(1, disk["bytes"] // GIB), "VolumeType": "gp3",
                                     "DeleteOnTermination": True}}
        for name, disk in zip(names, server.disks)
    ]
    try:
        reservation = ec2.run_instances(_image_for(ec2, server.os), 1, None, [], **kwargs)
    except Exception as exc:  # moto raises its own EC2 errors; DRS reports them in the job log
        raise LaunchError(f"Failed to launch recovery instance: {exc}") from None
    instance = reservation.instances[0]
    if config.get("launchDisposition") == "STOPPED":
        ec2.stop_instances([instance.id])
    disks = [{"internalDeviceName": device, "bytes": mapping.size * GIB, "ebsVolumeID": mapping.volume_id}
             for device, mapping in instance.get_block_device_mapping]
    return {"instance_id": instance.id, "az": instance.placement.zone, "disks": disks, "detached_volumes": [],
            "private_ip": instance.private_ip}


def _vpc_default_group(ec2, subnet_id: str | None) -> str | None:
    """The ``default`` security group of the subnet's VPC (the default VPC without a subnet), or None."""
    try:
        vpc = ec2.get_vpc(ec2.get_subnet(subnet_id).vpc_id) if subnet_id else ec2.get_default_vpc()
    except Exception:  # unknown subnet: run_instances reports it
        return None
    group = ec2.get_security_group_from_name("default", vpc.id) if vpc else None
    return group.id if group else None


def terminate(account_id: str, region: str, instance_id: str) -> None:
    instance = find_instance(account_id, region, instance_id)
    if instance is not None and instance.state != "terminated":
        backend(account_id, region).terminate_instances([instance_id])


def is_drs_managed(account_id: str, region: str, instance_id: str) -> bool:
    return MANAGED_TAG in instance_tags(account_id, region, instance_id)
