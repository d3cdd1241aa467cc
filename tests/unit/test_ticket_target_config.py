"""A ticket target's config dumps as it validates: a GitHub target that leaves ``api_url`` out gets
the public API's URL as an ``HttpUrl`` (as if given), so dumping it to JSON warns of nothing."""

from __future__ import annotations

import warnings

from pydantic import TypeAdapter

from dd0c_cost.tickets.targets import GitHubConfig, TargetConfig


def test_github_default_api_url_is_validated_and_dumps_without_warning():
    config = TypeAdapter(TargetConfig).validate_python({"kind": "github", "repo": "acme/infra"})
    assert isinstance(config, GitHubConfig)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydantic's serializer warning fails the test
        dumped = config.model_dump(mode="json")
        TypeAdapter(TargetConfig).dump_json(config)
    assert dumped["api_url"].rstrip("/") == "https://api.github.com"
    given = GitHubConfig.model_validate({"repo": "acme/infra", "api_url": "https://github.example.com/api/v3"})
    assert type(given.api_url) is type(config.api_url)
