"""Secrets at rest: the local key-file sealer and KMS envelope encryption (moto)."""

from __future__ import annotations

import os
import stat

import pytest

from dd0c_cost.crypto import KmsSealer, LocalKeySealer, Redacted, SealError, secret_context

TOKEN = "xoxb-1234-5678-abcdefghijklmnop"
CONTEXT = secret_context("0c0ffee0-1111-4222-8333-444455556666", "slack_bot_token")


def test_local_key_file_is_created_0600_and_values_round_trip(tmp_path):
    sealer = LocalKeySealer(tmp_path / "data" / "secrets.key")
    blob = sealer.seal(TOKEN, context=CONTEXT)
    assert TOKEN.encode() not in blob and b"xoxb" not in blob
    assert stat.S_IMODE(os.stat(tmp_path / "data" / "secrets.key").st_mode) == 0o600
    opened = sealer.open(blob, context=CONTEXT)
    assert opened.reveal() == TOKEN
    # A second sealer on the same file (another process) opens it too; the nonce differs per seal.
    assert LocalKeySealer(tmp_path / "data" / "secrets.key").open(blob, context=CONTEXT).reveal() == TOKEN
    assert sealer.seal(TOKEN, context=CONTEXT) != blob


def test_a_sealed_value_does_not_open_for_another_tenant_or_purpose(tmp_path):
    sealer = LocalKeySealer(tmp_path / "secrets.key")
    blob = sealer.seal(TOKEN, context=CONTEXT)
    with pytest.raises(SealError):
        sealer.open(blob, context=secret_context("11111111-1111-4111-8111-111111111111", "slack_bot_token"))
    with pytest.raises(SealError):
        sealer.open(blob, context=secret_context(CONTEXT["tenant_id"], "jira_token"))
    with pytest.raises(SealError):
        LocalKeySealer(tmp_path / "other.key").open(blob, context=CONTEXT)
    with pytest.raises(SealError):
        sealer.open(b"garbage", context=CONTEXT)


def test_a_key_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "secrets.key"
    path.write_bytes(os.urandom(32))
    path.chmod(0o644)
    with pytest.raises(SealError, match="chmod 600"):
        LocalKeySealer(path).seal(TOKEN, context=CONTEXT)


def test_redacted_never_shows_the_secret():
    secret = Redacted(TOKEN)
    assert TOKEN not in repr(secret) and TOKEN not in str(secret) and TOKEN not in f"{secret}"
    assert secret.reveal() == TOKEN and repr(secret).startswith("Redacted('xoxb-'")


def test_kms_envelope_encryption_binds_the_context(monkeypatch):
    from moto import mock_aws

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        kms = boto3.client("kms")
        key_id = kms.create_key(Description="dd0c-cost secrets")["KeyMetadata"]["KeyId"]
        calls = {"decrypt": 0}
        real_decrypt = kms.decrypt

        def counting_decrypt(**kwargs):
            calls["decrypt"] += 1
            return real_decrypt(**kwargs)

        kms.decrypt = counting_decrypt
        sealer = KmsSealer(key_id, client=kms)
        blob = sealer.seal(TOKEN, context=CONTEXT)
        assert TOKEN.encode() not in blob and b'"s":"kms"' in blob
        assert sealer.open(blob, context=CONTEXT).reveal() == TOKEN
        assert sealer.open(blob, context=CONTEXT).reveal() == TOKEN
        assert calls["decrypt"] == 1  # the data key is cached: one KMS call for repeated opens
        with pytest.raises(SealError):
            KmsSealer(key_id, client=kms).open(blob, context=secret_context("other", "slack_bot_token"))
        with pytest.raises(SealError, match="opens 'local'"):
            LocalKeySealer.__new__(LocalKeySealer).open(blob, context=CONTEXT)
