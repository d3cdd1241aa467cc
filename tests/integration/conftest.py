"""Fixtures shared by the HTTP API test modules: the api handler as API Gateway invokes it
(``api``) and two tenants with their API keys (``tenants``), both defined in test_api.py."""

from tests.integration.test_api import api, slack, tenants  # noqa: F401  (fixtures)
