"""The zombie-resource hunter: idle EC2, RDS, EBS, Elastic IPs, NAT gateways, load balancers,
snapshots and managed services (SageMaker, ElastiCache, Redshift, OpenSearch), priced.

- ``models``: resource descriptions, metric queries, evaluations, findings, the queue message;
- ``criteria``: the rules, pure functions of a resource, its daily metrics and the scan time (one
  ``criteria_<family>`` module per family of resources, ``criteria_shared`` for what they share);
- ``waste``: monthly waste per component from the price snapshot;
- ``inventory`` / ``metrics`` / ``access``: reading a customer account (Describe calls, batched
  GetMetricData, the ``dd0c-reader`` role with the account's ExternalId); the Describe calls of
  each family in ``inventory_<family>``, through ``inventory_reader``;
- ``scan``: one account in one region; ``dal``: PostgreSQL (``005_zombies.sql``);
- ``hunter``: what the scheduled fan-out and the queue consumer call.
"""
