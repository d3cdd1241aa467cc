-- Slack as each tenant's own surface: one installation per tenant (bot token sealed, never in
-- clear), the OAuth install state (hashed, expiring), per-tenant routes, the delivery outcome
-- of every anomaly, and the friendly names tenants give their accounts.

CREATE TABLE dd0c.slack_installations (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id              uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    app_id                 text,
    enterprise_id          text,
    enterprise_name        text,
    team_id                text,
    team_name              text,
    is_enterprise_install  boolean NOT NULL DEFAULT false,
    bot_id                 text,
    bot_user_id            text,
    bot_scopes             text[] NOT NULL DEFAULT '{}',
    -- crypto.seal(bot token, context {tenant_id, purpose: slack_bot_token}); NULL once disabled
    bot_token_sealed       bytea,
    installer_user_id      text,
    -- the channel the installer picked on Slack's consent screen (incoming-webhook scope)
    default_channel_id     text,
    default_channel_name   text,
    installed_at           timestamptz NOT NULL DEFAULT now(),
    status                 text NOT NULL DEFAULT 'active'
                           CHECK (status IN ('active', 'replaced', 'uninstalled', 'tokens_revoked', 'removed')),
    disabled_at            timestamptz,
    CHECK (team_id IS NOT NULL OR enterprise_id IS NOT NULL),
    CHECK ((status = 'active') = (bot_token_sealed IS NOT NULL))
);
-- One working installation per tenant; a reinstall replaces the previous one.
CREATE UNIQUE INDEX slack_installations_one_active ON dd0c.slack_installations (tenant_id) WHERE status = 'active';
CREATE INDEX slack_installations_workspace ON dd0c.slack_installations (team_id, enterprise_id) WHERE status = 'active';

-- OAuth state: only its sha256 is stored; it names the tenant that asked to install, and dies
-- after use or at expires_at (wall time: this is request freshness, not event time).
CREATE TABLE dd0c.slack_oauth_states (
    state_hash  bytea PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX slack_oauth_states_expiry ON dd0c.slack_oauth_states (expires_at);

-- Where a tenant's alerts go: a default channel and overrides by account, service or severity.
CREATE TABLE dd0c.slack_routes (
    tenant_id    uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    match_kind   text NOT NULL CHECK (match_kind IN ('default', 'account', 'service', 'severity')),
    match_value  text NOT NULL DEFAULT '',
    channel      text NOT NULL CHECK (length(channel) BETWEEN 1 AND 200),
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, match_kind, match_value),
    CHECK ((match_kind = 'default') = (match_value = ''))
);

-- What happened to the anomaly's latest message: posted to Slack, written to the local outbox,
-- or kept undelivered (with why: not installed, uninstalled, no route, Slack refused).
ALTER TABLE dd0c.anomalies
    ADD COLUMN delivery_status  text CHECK (delivery_status IN ('slack', 'outbox', 'undelivered')),
    ADD COLUMN delivery_detail  text;

-- "prod-payments" rather than 111122223333 in alerts.
ALTER TABLE dd0c.connected_accounts
    ADD COLUMN display_name text CHECK (display_name IS NULL OR length(display_name) BETWEEN 1 AND 100);

SELECT dd0c.protect_tenant_table('dd0c.slack_installations');
SELECT dd0c.protect_tenant_table('dd0c.slack_oauth_states');
SELECT dd0c.protect_tenant_table('dd0c.slack_routes');

GRANT SELECT, UPDATE, DELETE ON dd0c.slack_installations TO dd0c_operator;
GRANT SELECT, DELETE ON dd0c.slack_oauth_states TO dd0c_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.slack_routes TO dd0c_operator;
GRANT UPDATE (display_name) ON dd0c.connected_accounts TO dd0c_operator;

GRANT SELECT, INSERT, UPDATE ON dd0c.slack_installations TO dd0c_app;
GRANT SELECT, INSERT, DELETE ON dd0c.slack_oauth_states TO dd0c_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.slack_routes TO dd0c_app;
GRANT SELECT (display_name), UPDATE (display_name) ON dd0c.connected_accounts TO dd0c_app;

-- The OAuth redirect arrives before any tenant is known: these doors, owned by dd0c_operator,
-- look a state up by its hash and return one tenant id. Peek (the install page) leaves it;
-- consume (the redirect) deletes it, so a state works once, and sweeps expired states.
CREATE FUNCTION dd0c.slack_oauth_state_tenant(p_state_hash bytea) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$ SELECT tenant_id FROM dd0c.slack_oauth_states WHERE state_hash = p_state_hash AND expires_at > now() $$;

CREATE FUNCTION dd0c.consume_slack_oauth_state(p_state_hash bytea) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$
DECLARE
    v_tenant uuid;
BEGIN
    DELETE FROM dd0c.slack_oauth_states WHERE state_hash = p_state_hash AND expires_at > now()
        RETURNING tenant_id INTO v_tenant;
    DELETE FROM dd0c.slack_oauth_states WHERE expires_at <= now();
    RETURN v_tenant;
END
$$;

-- Slack's app_uninstalled / tokens_revoked events name a workspace (or a Grid org), not a
-- tenant: disable every active installation there (every tenant that installed into it), drop
-- the sealed token, and return the tenants affected. p_bot_user_ids narrows tokens_revoked to
-- the bots whose tokens were revoked (NULL: all).
CREATE FUNCTION dd0c.disable_slack_workspace(p_enterprise_id text, p_team_id text, p_status text, p_bot_user_ids text[])
    RETURNS SETOF uuid
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$
BEGIN
    IF p_status NOT IN ('uninstalled', 'tokens_revoked') THEN
        RAISE EXCEPTION 'unknown status %', p_status USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    UPDATE dd0c.slack_installations i
       SET status = p_status, disabled_at = now(), bot_token_sealed = NULL
     WHERE i.status = 'active'
       AND ((NOT i.is_enterprise_install AND p_team_id IS NOT NULL AND i.team_id = p_team_id)
            OR (i.is_enterprise_install AND p_enterprise_id IS NOT NULL AND i.enterprise_id = p_enterprise_id))
       AND (p_bot_user_ids IS NULL OR i.bot_user_id = ANY (p_bot_user_ids))
    RETURNING i.tenant_id;
END
$$;

ALTER FUNCTION dd0c.slack_oauth_state_tenant(bytea) OWNER TO dd0c_operator;
ALTER FUNCTION dd0c.consume_slack_oauth_state(bytea) OWNER TO dd0c_operator;
ALTER FUNCTION dd0c.disable_slack_workspace(text, text, text, text[]) OWNER TO dd0c_operator;
REVOKE ALL ON FUNCTION dd0c.slack_oauth_state_tenant(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION dd0c.consume_slack_oauth_state(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION dd0c.disable_slack_workspace(text, text, text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dd0c.slack_oauth_state_tenant(bytea) TO dd0c_app;
GRANT EXECUTE ON FUNCTION dd0c.consume_slack_oauth_state(bytea) TO dd0c_app;
GRANT EXECUTE ON FUNCTION dd0c.disable_slack_workspace(text, text, text, text[]) TO dd0c_app;
