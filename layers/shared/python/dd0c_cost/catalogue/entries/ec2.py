"""EC2: instances, EBS volumes and snapshots, networking (addresses, NAT gateways, ...)."""

from __future__ import annotations

from dd0c_cost.catalogue.entries._build import C, D, M, P, S, e
from dd0c_cost.catalogue.reader import Assumed
from dd0c_cost.events.paths import Sum

_EC2 = "ec2.amazonaws.com"

# EC2 instances
_INSTANCE_IDS_RESPONSE = ("responseElements.instancesSet.items[*].instanceId",)
_INSTANCE_IDS_REQUEST = (
    "requestParameters.instancesSet.items[*].instanceId",
    "requestParameters.instanceIds[*]",
    "responseElements.instancesSet.items[*].instanceId",
)
_RUN_INSTANCES_ATTRS = {
    "instance_type": (
        "responseElements.instancesSet.items[*].instanceType",
        "requestParameters.instanceType",
        "requestParameters.instanceType.value",
    ),
    "tenancy": (
        "responseElements.instancesSet.items[*].placement.tenancy",
        "requestParameters.placement.tenancy",
        "requestParameters.tenancy",
    ),
    "market": ("requestParameters.instanceMarketOptions.marketType",),
    "spot_max_price": ("requestParameters.instanceMarketOptions.spotOptions.maxPrice",),
    "platform": ("responseElements.instancesSet.items[*].platform",),
    "launch_template": (
        "requestParameters.launchTemplate.launchTemplateId",
        "requestParameters.launchTemplate.launchTemplateName",
    ),
    "image_id": ("requestParameters.instancesSet.items[*].imageId", "responseElements.instancesSet.items[*].imageId"),
    "availability_zone": (
        "responseElements.instancesSet.items[*].placement.availabilityZone",
        "requestParameters.availabilityZone",
    ),
}

# EBS
_VOLUME_ATTRS = {
    "volume_type": ("responseElements.volumeType", "requestParameters.volumeType"),
    "size_gb": ("responseElements.size", "requestParameters.size"),
    "iops": ("responseElements.iops", "requestParameters.iops"),
    "throughput": ("responseElements.throughput", "requestParameters.throughput"),
    "availability_zone": ("responseElements.zone", "requestParameters.zone"),
}

ENTRIES = (
    # --- EC2 instances -------------------------------------------------------------------------
    e(
        _EC2,
        "RunInstances",
        "ec2",
        "ec2:instance",
        C,
        resource_ids=_INSTANCE_IDS_RESPONSE,
        # With no response (redacted), assume the minimum that could have launched.
        quantity=("requestParameters.instancesSet.items[*].minCount", "requestParameters.minCount"),
        attributes=_RUN_INSTANCES_ATTRS,
        pricer="ec2_instance",
        # RunInstances' documented default type; a launch template holds the real one instead.
        assume={"instance_type": Assumed("m1.small", unless="launch_template")},
        note="count from the response ids (else minCount); spot = on-demand upper bound (or MaxPrice)",
    ),
    e(
        _EC2,
        "StartInstances",
        "ec2",
        "ec2:instance",
        S,
        resource_ids=_INSTANCE_IDS_REQUEST,
        pricer="ec2_instance",
        inherit_attributes=True,
    ),
    e(
        _EC2,
        "StopInstances",
        "ec2",
        "ec2:instance",
        P,
        resource_ids=_INSTANCE_IDS_REQUEST,
        pricer="ec2_instance",
        inherit_attributes=True,
    ),
    e(
        _EC2,
        "TerminateInstances",
        "ec2",
        "ec2:instance",
        D,
        resource_ids=_INSTANCE_IDS_REQUEST,
        pricer="ec2_instance",
        inherit_attributes=True,
    ),
    e(
        _EC2,
        "ModifyInstanceAttribute",
        "ec2",
        "ec2:instance",
        M,
        resource_ids=("requestParameters.instanceId",),
        attributes={"instance_type": ("requestParameters.instanceType.value", "requestParameters.instanceType")},
        pricer="ec2_instance_resize",
        inherit_attributes=True,
        note="type change only (needs a stopped instance): $0 now, the new type is priced at the next StartInstances",
    ),
    # --- EBS -------------------------------------------------------------------------------------
    e(
        _EC2,
        "CreateVolume",
        "ebs",
        "ec2:volume",
        C,
        resource_ids=("responseElements.volumeId",),
        attributes=_VOLUME_ATTRS,
        pricer="ebs_volume",
    ),
    e(
        _EC2,
        "ModifyVolume",
        "ebs",
        "ec2:volume",
        M,
        resource_ids=(
            "requestParameters.VolumeId",
            "requestParameters.volumeId",
            "responseElements.volumeModification.volumeId",
        ),
        attributes={
            "volume_type": (
                "requestParameters.VolumeType",
                "requestParameters.volumeType",
                "responseElements.volumeModification.targetVolumeType",
            ),
            "size_gb": (
                "requestParameters.Size",
                "requestParameters.size",
                "responseElements.volumeModification.targetSize",
            ),
            "iops": (
                "requestParameters.Iops",
                "requestParameters.iops",
                "responseElements.volumeModification.targetIops",
            ),
            "throughput": (
                "requestParameters.Throughput",
                "requestParameters.throughput",
                "responseElements.volumeModification.targetThroughput",
            ),
        },
        previous={
            "volume_type": ("responseElements.volumeModification.originalVolumeType",),
            "size_gb": ("responseElements.volumeModification.originalSize",),
            "iops": ("responseElements.volumeModification.originalIops",),
            "throughput": ("responseElements.volumeModification.originalThroughput",),
        },
        pricer="ebs_volume",
        inherit_attributes=True,
    ),
    e(
        _EC2,
        "DeleteVolume",
        "ebs",
        "ec2:volume",
        D,
        resource_ids=("requestParameters.volumeId",),
        pricer="ebs_volume",
        inherit_attributes=True,
    ),
    e(
        _EC2,
        "CreateSnapshot",
        "ebs",
        "ec2:snapshot",
        C,
        resource_ids=("responseElements.snapshotId",),
        attributes={"size_gb": ("responseElements.volumeSize",), "volume_id": ("requestParameters.volumeId",)},
        pricer="ebs_snapshot",
    ),
    e(
        _EC2,
        "DeleteSnapshot",
        "ebs",
        "ec2:snapshot",
        D,
        resource_ids=("requestParameters.snapshotId",),
        pricer="ebs_snapshot",
        inherit_attributes=True,
    ),
    e(
        _EC2,
        "CreateImage",
        "ebs",
        "ec2:image",
        C,
        resource_ids=("responseElements.imageId",),
        attributes={
            "size_gb": (Sum("requestParameters.blockDeviceMapping.items[*].ebs.volumeSize"),),
            "instance_id": ("requestParameters.instanceId",),
        },
        pricer="ebs_snapshot",
        note="the AMI's EBS snapshots, sized from the block-device mapping in the call",
    ),
    # --- EC2 networking --------------------------------------------------------------------------
    e(
        _EC2,
        "AllocateAddress",
        "ec2",
        "ec2:elastic-ip",
        C,
        resource_ids=("responseElements.allocationId", "responseElements.publicIp"),
        attributes={
            "pool": ("responseElements.publicIpv4Pool", "requestParameters.publicIpv4Pool"),
            "domain": ("responseElements.domain", "requestParameters.domain"),
        },
        pricer="public_ipv4",
    ),
    e(
        _EC2,
        "ReleaseAddress",
        "ec2",
        "ec2:elastic-ip",
        D,
        resource_ids=("requestParameters.allocationId", "requestParameters.publicIp"),
        pricer="public_ipv4",
        inherit_attributes=True,
    ),
    e(
        _EC2,
        "CreateNatGateway",
        "ec2",
        "ec2:natgateway",
        C,
        resource_ids=("responseElements.natGateway.natGatewayId",),
        attributes={
            "connectivity": ("requestParameters.ConnectivityType", "responseElements.natGateway.connectivityType"),
            "subnet_id": ("requestParameters.SubnetId", "responseElements.natGateway.subnetId"),
        },
        pricer="nat_gateway",
        note="hourly charge only; data processing is usage",
    ),
    e(
        _EC2,
        "DeleteNatGateway",
        "ec2",
        "ec2:natgateway",
        D,
        resource_ids=("requestParameters.NatGatewayId", "responseElements.natGatewayId"),
        pricer="nat_gateway",
        inherit_attributes=True,
    ),
    e(
        _EC2,
        "CreateTransitGatewayVpcAttachment",
        "ec2",
        "ec2:transit-gateway-attachment",
        C,
        resource_ids=("responseElements.transitGatewayVpcAttachment.transitGatewayAttachmentId",),
        attributes={
            "transit_gateway_id": (
                "requestParameters.TransitGatewayId",
                "responseElements.transitGatewayVpcAttachment.transitGatewayId",
            )
        },
        pricer="transit_gateway",
    ),
    e(
        _EC2,
        "DeleteTransitGatewayVpcAttachment",
        "ec2",
        "ec2:transit-gateway-attachment",
        D,
        resource_ids=(
            "requestParameters.TransitGatewayAttachmentId",
            "responseElements.transitGatewayVpcAttachment.transitGatewayAttachmentId",
        ),
        attributes={"transit_gateway_id": ("responseElements.transitGatewayVpcAttachment.transitGatewayId",)},
        pricer="transit_gateway",
        inherit_attributes=True,
    ),
)
