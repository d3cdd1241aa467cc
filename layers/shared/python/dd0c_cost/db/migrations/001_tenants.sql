-- Tenants, their API keys and connected AWS accounts; the application role and RLS helpers.
-- Every tenant-owned table has row-level security, FORCEd so the table owner obeys it too,
-- and the application role (dd0c_app) has NOBYPASSRLS and owns nothing.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dd0c_app') THEN
        CREATE ROLE dd0c_app NOLOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

-- dd0c_operator acts across tenants: the operator CLI (tenants, accounts, keys) and the two
-- lookups below. It is a separate role so the runtime role never gains that reach.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dd0c_operator') THEN
        CREATE ROLE dd0c_operator NOLOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

-- The login that runs migrations may SET ROLE to either (the runtime uses dd0c_app on every
-- connection; operator commands use dd0c_operator).
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'dd0c_app', 'MEMBER') THEN
        EXECUTE format('GRANT dd0c_app TO %I', current_user);
    END IF;
    IF NOT pg_has_role(current_user, 'dd0c_operator', 'MEMBER') THEN
        EXECUTE format('GRANT dd0c_operator TO %I', current_user);
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS dd0c;
GRANT USAGE ON SCHEMA dd0c TO dd0c_app, dd0c_operator;
-- CREATE lets dd0c_operator own the two lookup functions below (PostgreSQL requires it of an owner).
GRANT CREATE ON SCHEMA dd0c TO dd0c_operator;

-- The tenant the current transaction acts for; NULL (no rows visible, no writes) when unset.
CREATE FUNCTION dd0c.current_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('dd0c.tenant_id', true), '')::uuid $$;

-- One way to put a table under tenant isolation, used by every migration that adds a tenant table:
-- RLS enabled and FORCEd (the owner obeys it too), the tenant's rows only, and the operator role
-- across tenants.
CREATE FUNCTION dd0c.protect_tenant_table(p_table regclass, p_tenant_column text DEFAULT 'tenant_id')
    RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_table);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', p_table);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (%I = dd0c.current_tenant()) '
                   'WITH CHECK (%I = dd0c.current_tenant())', p_table, p_tenant_column, p_tenant_column);
    EXECUTE format('CREATE POLICY operator_access ON %s TO dd0c_operator USING (true) WITH CHECK (true)', p_table);
END
$$;
REVOKE ALL ON FUNCTION dd0c.protect_tenant_table(regclass, text) FROM PUBLIC;

CREATE TABLE dd0c.tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dd0c.api_keys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    key_hash    bytea NOT NULL UNIQUE,          -- sha256 of the secret; the secret is shown once
    key_prefix  text NOT NULL,                  -- first characters, to recognise a key in lists
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE dd0c.connected_accounts (
    account_id     text PRIMARY KEY CHECK (account_id ~ '^[0-9]{12}$'),  -- an account belongs to one tenant
    tenant_id      uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    external_id    text,
    regions        text[] NOT NULL DEFAULT '{}',
    last_event_at  timestamptz,                 -- event time of the newest record seen
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connected_accounts_tenant ON dd0c.connected_accounts (tenant_id);

SELECT dd0c.protect_tenant_table('dd0c.tenants', 'id');
SELECT dd0c.protect_tenant_table('dd0c.api_keys');
SELECT dd0c.protect_tenant_table('dd0c.connected_accounts');
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.tenants, dd0c.api_keys, dd0c.connected_accounts TO dd0c_operator;

GRANT SELECT ON dd0c.tenants TO dd0c_app;
GRANT SELECT ON dd0c.api_keys TO dd0c_app;
GRANT SELECT, UPDATE (last_event_at) ON dd0c.connected_accounts TO dd0c_app;

-- Narrow lookups that must work before a tenant is known. SECURITY DEFINER, owned by
-- dd0c_operator, so they read across tenants; each returns one tenant id and nothing else.
CREATE FUNCTION dd0c.tenant_for_account(p_account_id text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$ SELECT tenant_id FROM dd0c.connected_accounts WHERE account_id = p_account_id $$;

CREATE FUNCTION dd0c.tenant_for_api_key(p_key_hash bytea) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$ SELECT tenant_id FROM dd0c.api_keys WHERE key_hash = p_key_hash AND revoked_at IS NULL $$;

ALTER FUNCTION dd0c.tenant_for_account(text) OWNER TO dd0c_operator;
ALTER FUNCTION dd0c.tenant_for_api_key(bytea) OWNER TO dd0c_operator;
REVOKE ALL ON FUNCTION dd0c.tenant_for_account(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION dd0c.tenant_for_api_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dd0c.tenant_for_account(text) TO dd0c_app;
GRANT EXECUTE ON FUNCTION dd0c.tenant_for_api_key(bytea) TO dd0c_app;
