"""The offline price snapshot built from the licensed CSV data set (``shared/pricing`` and
``shared/pricing-extra``): ``rows`` reads and checks the CSV files, ``ec2`` reconciles the two EC2
sources, ``instances`` makes the RDS, ElastiCache and OpenSearch tables, ``rates`` the scalar
rates, and ``build`` writes the files through ``pricing.snapshot``, the writer ``dd0c-cost pricing
refresh`` uses too. ``scripts/build_price_snapshot.py`` runs ``build.main``."""
