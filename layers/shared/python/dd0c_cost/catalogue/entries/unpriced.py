"""SageMaker, MSK, Kinesis and Bedrock.

MSK and Kinesis are priced (shared/pricing-extra rates); SageMaker and Bedrock have no licensed
price source (``price_unknown``) but their sizing is read, and an endpoint's sizing is joined from
its ``CreateEndpointConfig``, so that the scorer can judge them by their shape."""

from __future__ import annotations

from dd0c_cost.catalogue.entries._build import C, D, M, P, S, e
from dd0c_cost.events.paths import Count, Sum

_SAGEMAKER = "sagemaker.amazonaws.com"
_KAFKA = "kafka.amazonaws.com"
_KINESIS = "kinesis.amazonaws.com"
_BEDROCK = "bedrock.amazonaws.com"

# SageMaker
_NOTEBOOK_ID = ("requestParameters.notebookInstanceName",)
_NOTEBOOK_ATTRS = {
    "instance_type": ("requestParameters.instanceType",),
    "volume_size": ("requestParameters.volumeSizeInGB",),
}

# MSK
_MSK_ID = ("responseElements.clusterArn", "requestParameters.clusterArn", "requestParameters.clusterName")
_MSK_ATTRS = {
    "instance_type": (
        "requestParameters.brokerNodeGroupInfo.instanceType",
        "requestParameters.provisioned.brokerNodeGroupInfo.instanceType",
    ),
    "brokers": ("requestParameters.numberOfBrokerNodes", "requestParameters.provisioned.numberOfBrokerNodes"),
    "volume_size": (
        "requestParameters.brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize",
        "requestParameters.provisioned.brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize",
    ),
    "serverless": ("requestParameters.serverless.vpcConfigs[*].subnetIds[*]",),
}

# Kinesis
_STREAM_ID = ("requestParameters.streamName", "requestParameters.streamARN", "responseElements.streamName")

ENTRIES = (
    # --- SageMaker (no licensed price source) ----------------------------------------------------
    # An endpoint config bills nothing itself; it is kept (a $0 cost event) so that the endpoint
    # created from it inherits its instance type and count (first variant's type, all variants' count).
    e(
        _SAGEMAKER,
        "CreateEndpointConfig",
        "sagemaker",
        "sagemaker:endpoint-config",
        C,
        resource_ids=("requestParameters.endpointConfigName",),
        attributes={
            "instance_type": ("requestParameters.productionVariants[*].instanceType",),
            "instance_count": (Sum("requestParameters.productionVariants[*].initialInstanceCount"),),
            "variants": (Count("requestParameters.productionVariants[*].variantName"),),
        },
        pricer="sagemaker_endpoint_config",
        note="bills nothing itself; its endpoint inherits its sizing",
    ),
    e(
        _SAGEMAKER,
        "CreateEndpoint",
        "sagemaker",
        "sagemaker:endpoint",
        C,
        resource_ids=("requestParameters.endpointName", "responseElements.endpointArn"),
        attributes={"endpoint_config": ("requestParameters.endpointConfigName",)},
        pricer="sagemaker",
        inherit_attributes=True,
        inherit_from=("requestParameters.endpointConfigName",),
        inherit_type="sagemaker:endpoint-config",
    ),
    e(
        _SAGEMAKER,
        "DeleteEndpoint",
        "sagemaker",
        "sagemaker:endpoint",
        D,
        resource_ids=("requestParameters.endpointName",),
        pricer="sagemaker",
        inherit_attributes=True,
    ),
    e(
        _SAGEMAKER,
        "CreateNotebookInstance",
        "sagemaker",
        "sagemaker:notebook-instance",
        C,
        resource_ids=_NOTEBOOK_ID,
        attributes=_NOTEBOOK_ATTRS,
        pricer="sagemaker",
    ),
    e(
        _SAGEMAKER,
        "StartNotebookInstance",
        "sagemaker",
        "sagemaker:notebook-instance",
        S,
        resource_ids=_NOTEBOOK_ID,
        pricer="sagemaker",
        inherit_attributes=True,
    ),
    e(
        _SAGEMAKER,
        "StopNotebookInstance",
        "sagemaker",
        "sagemaker:notebook-instance",
        P,
        resource_ids=_NOTEBOOK_ID,
        pricer="sagemaker",
        inherit_attributes=True,
    ),
    e(
        _SAGEMAKER,
        "DeleteNotebookInstance",
        "sagemaker",
        "sagemaker:notebook-instance",
        D,
        resource_ids=_NOTEBOOK_ID,
        pricer="sagemaker",
        inherit_attributes=True,
    ),
    e(
        _SAGEMAKER,
        "CreateTrainingJob",
        "sagemaker",
        "sagemaker:training-job",
        C,
        resource_ids=("requestParameters.trainingJobName",),
        attributes={
            "instance_type": ("requestParameters.resourceConfig.instanceType",),
            "instance_count": ("requestParameters.resourceConfig.instanceCount",),
            "volume_size": ("requestParameters.resourceConfig.volumeSizeInGB",),
        },
        pricer="sagemaker",
        note="runs until it finishes; StopTrainingJob ends it early",
    ),
    e(
        _SAGEMAKER,
        "StopTrainingJob",
        "sagemaker",
        "sagemaker:training-job",
        P,
        resource_ids=("requestParameters.trainingJobName",),
        pricer="sagemaker",
        inherit_attributes=True,
    ),
    # --- MSK, Kinesis (priced), Bedrock (no licensed price source) ------------------------------
    e(_KAFKA, "CreateCluster", "msk", "kafka:cluster", C, resource_ids=_MSK_ID, attributes=_MSK_ATTRS, pricer="msk"),
    e(_KAFKA, "CreateClusterV2", "msk", "kafka:cluster", C, resource_ids=_MSK_ID, attributes=_MSK_ATTRS, pricer="msk"),
    e(_KAFKA, "DeleteCluster", "msk", "kafka:cluster", D, resource_ids=_MSK_ID, pricer="msk", inherit_attributes=True),
    e(
        _KINESIS,
        "CreateStream",
        "kinesis",
        "kinesis:stream",
        C,
        resource_ids=_STREAM_ID,
        attributes={
            "shard_count": ("requestParameters.shardCount",),
            "stream_mode": ("requestParameters.streamModeDetails.streamMode",),
        },
        pricer="kinesis",
    ),
    e(
        _KINESIS,
        "UpdateShardCount",
        "kinesis",
        "kinesis:stream",
        M,
        resource_ids=_STREAM_ID,
        attributes={"shard_count": ("requestParameters.targetShardCount", "responseElements.targetShardCount")},
        previous={"shard_count": ("responseElements.currentShardCount",)},
        pricer="kinesis",
        inherit_attributes=True,
    ),
    e(
        _KINESIS,
        "DeleteStream",
        "kinesis",
        "kinesis:stream",
        D,
        resource_ids=_STREAM_ID,
        pricer="kinesis",
        inherit_attributes=True,
    ),
    e(
        _BEDROCK,
        "CreateModelCustomizationJob",
        "bedrock",
        "bedrock:model-customization-job",
        C,
        resource_ids=("responseElements.jobArn", "requestParameters.jobName"),
        attributes={"base_model": ("requestParameters.baseModelIdentifier",)},
        pricer="bedrock",
    ),
    e(
        _BEDROCK,
        "CreateProvisionedModelThroughput",
        "bedrock",
        "bedrock:provisioned-model",
        C,
        resource_ids=("responseElements.provisionedModelArn", "requestParameters.provisionedModelName"),
        attributes={"model_units": ("requestParameters.modelUnits",), "model_id": ("requestParameters.modelId",)},
        pricer="bedrock",
    ),
    e(
        _BEDROCK,
        "DeleteProvisionedModelThroughput",
        "bedrock",
        "bedrock:provisioned-model",
        D,
        resource_ids=("requestParameters.provisionedModelId",),
        pricer="bedrock",
        inherit_attributes=True,
    ),
)
