// dd0c/cost console. Every customer-supplied string (actor names, tags, resource ids, summaries)
// is rendered as text by Preact; nothing here sets innerHTML.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";

let csrf = null;
const api = async (method, path, body) => {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrf) headers["x-csrf-token"] = csrf;
  const res = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) { const e = new Error((data && data.message) || res.statusText); e.status = res.status; e.code = data && data.error; throw e; }
  return data;
};

const usd = (x, digits = 2) => (x == null ? "—" : "$" + Number(x).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const when = (t) => (t ? new Date(t).toISOString().slice(0, 16).replace("T", " ") : "—");
const SEVERITIES = ["critical", "high", "medium", "low"];
const STATUSES = ["open", "acknowledged", "snoozed", "expected", "false_positive"];

function useRoute() {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => { const f = () => setHash(location.hash || "#/"); addEventListener("hashchange", f); return () => removeEventListener("hashchange", f); }, []);
  return hash.slice(1).split("?")[0];
}

function useLoad(fn, deps) {
  const [state, setState] = useState({ loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then((data) => live && setState({ data }), (error) => live && setState({ error }));
    return () => { live = false; };
  }, [...deps, n]);
  return [state, () => setN(n + 1)];
}

function Failure({ error }) { return <p class="error" role="alert">{error.code ? `${error.code}: ` : ""}{error.message}</p>; }

function SignIn({ onSession }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    try { const s = await api("POST", "/v1/session", { key }); csrf = s.csrf_token; onSession(s); }
    catch (err) { setError(err); }
  };
  return (
    <main class="signin panel">
      <h1>dd0c/cost</h1>
      <form onSubmit={submit}>
        <label for="key">API key</label>
        <input id="key" name="key" type="password" autocomplete="off" value={key} onInput={(e) => setKey(e.target.value)} placeholder="dd0c_…" />
        <button class="primary" type="submit">Sign in</button>
      </form>
      {error && <Failure error={error} />}
      <p class="muted">Exchanges the key for a one-hour session cookie. Make a key with <code>dd0c-cost keys create</code>.</p>
    </main>
  );
}

function SpendChart({ series, height = 280 }) {
  const el = useRef(null);
  useEffect(() => {
    if (!series || !el.current) return;
    const xs = series.points.map((p) => Date.parse(p.t) / 1000);
    const ys = series.points.map((p) => p.usd_per_hour);
    const marks = series.anomalies.map((a) => ({ x: Date.parse(a.t) / 1000, sev: a.severity }));
    const color = (sev) => getComputedStyle(document.documentElement).getPropertyValue("--" + sev).trim() || "red";
    const opts = {
      width: el.current.clientWidth || 600, height,
      scales: { x: { time: true } },
      axes: [{ stroke: "#888", grid: { stroke: "rgba(128,128,128,.15)" } }, { stroke: "#888", grid: { stroke: "rgba(128,128,128,.15)" }, values: (u, v) => v.map((x) => "$" + x) }],
      series: [{}, { label: "$/h", stroke: getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#2563eb", width: 2, fill: "rgba(37,99,235,.08)" }],
      hooks: { draw: [(u) => {
        const ctx = u.ctx; ctx.save();
        for (const m of marks) {
          const x = u.valToPos(m.x, "x", true);
          ctx.strokeStyle = color(m.sev); ctx.lineWidth = 2 * devicePixelRatio; ctx.setLineDash([4, 3]);
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
          ctx.fillStyle = color(m.sev); ctx.beginPath(); ctx.arc(x, u.bbox.top + 6 * devicePixelRatio, 5 * devicePixelRatio, 0, 7); ctx.fill();
        }
        ctx.restore();
      }] },
    };
    const plot = new uPlot(opts, [xs, ys], el.current);
    const resize = () => plot.setSize({ width: el.current.clientWidth, height });
    addEventListener("resize", resize);
    return () => { removeEventListener("resize", resize); plot.destroy(); };
  }, [series]);
  return <div class="chart" ref={el} data-testid="spend-chart" />;
}

function ComponentChart({ components }) {
  return (
    <div class="bars" data-testid="component-chart" role="img" aria-label="score components">
      {components.map((c) => (
        <div class="bar" title={c.reason} key={c.name}>
          <span>{c.name}</span>
          <div><div class="fill" style={{ width: `${Math.round(c.value * 100)}%` }} /></div>
          <span class="num">{c.value.toFixed(2)}</span>
        </div>
      ))}
    </div>
  );
}

function Overview() {
  const [s] = useLoad(() => Promise.all([api("GET", "/v1/summary"), api("GET", "/v1/spend/series")]), []);
  if (s.error) return <Failure error={s.error} />;
  if (!s.data) return <p class="muted">Loading…</p>;
  const [sum, series] = s.data;
  const open = SEVERITIES.reduce((n, k) => n + (sum.open_by_severity[k] || 0), 0);
  return (
    <>
      <div class="cards">
        <div class="card"><div class="label">Spend rate now</div><div class="value">{usd(sum.spend_usd_per_hour)}/h</div></div>
        <div class="card"><div class="label">Open anomalies</div><div class="value">{open}</div>
          <div class="muted">{SEVERITIES.map((k) => <span key={k} class={"sev sev-" + k}>{sum.open_by_severity[k] || 0} {k} </span>)}</div></div>
        <div class="card"><div class="label">Caught (30 days, per month)</div><div class="value">{usd(sum.caught_usd_per_month, 0)}</div></div>
        <div class="card"><div class="label">Money saved (projected 30 days)</div><div class="value" data-testid="saved">{usd(sum.saved_usd, 0)}</div>
          <div class="muted">{sum.saved_anomalies} anomalies stopped after detection</div></div>
        <div class="card"><div class="label">Governance</div><div class="value">{sum.mode}</div>{(sum.panic || sum.global_panic) && <div class="error">PANIC</div>}</div>
      </div>
      <div class="panel">
        <h2>Spend rate ($/h), anomalies marked</h2>
        <SpendChart series={series} />
        <ul class="timeline">
          {series.anomalies.slice(-8).reverse().map((a) => (
            <li key={a.id}><span class="when">{when(a.t)}</span><span class={"sev sev-" + a.severity}>{a.severity}</span>{" "}
              <a href={"#/anomalies/" + a.id}>{a.summary}</a> <span class="muted">{usd(a.usd_per_hour)}/h</span></li>
          ))}
        </ul>
      </div>
    </>
  );
}

function Anomalies() {
  const [f, setF] = useState({ status: "", severity: "", actor: "", account: "", service: "", sort: "-detected_at" });
  const [cursor, setCursor] = useState(null);
  const [rows, setRows] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const query = (c) => { const q = new URLSearchParams(); for (const [k, v] of Object.entries(f)) if (v) q.set(k, v); q.set("limit", "50"); if (c) q.set("cursor", c); return q; };
  useEffect(() => {
    api("GET", "/v1/anomalies?" + query(cursor)).then((d) => { setRows(cursor ? (r) => [...r, ...d.anomalies] : d.anomalies); setNext(d.next_cursor); setError(null); }, setError);
  }, [JSON.stringify(f), cursor]);
  const set = (k) => (e) => { setCursor(null); setF({ ...f, [k]: e.target.value }); };
  return (
    <div class="panel">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>Status<select name="status" value={f.status} onChange={set("status")}><option value="">any</option>{STATUSES.map((s) => <option key={s}>{s}</option>)}</select></label>
        <label>Severity<select name="severity" value={f.severity} onChange={set("severity")}><option value="">any</option>{SEVERITIES.map((s) => <option key={s}>{s}</option>)}</select></label>
        <label>Actor<input name="actor" value={f.actor} onChange={set("actor")} placeholder="contains" /></label>
        <label>Account<input name="account" value={f.account} onChange={set("account")} inputmode="numeric" /></label>
        <label>Service<input name="service" value={f.service} onChange={set("service")} placeholder="ec2" /></label>
        <label>Sort<select name="sort" value={f.sort} onChange={set("sort")}>
          <option value="-detected_at">newest</option><option value="-estimated_hourly_usd">largest $/h</option><option value="-score">highest score</option></select></label>
      </form>
      {error && <Failure error={error} />}
      <table data-testid="anomaly-table">
        <thead><tr><th>Detected (UTC)</th><th>Severity</th><th class="num">$/h</th><th class="hide-sm">Account</th><th class="hide-sm">Region</th><th>Who</th><th>What</th><th>Status</th></tr></thead>
        <tbody>
          {rows.map((a) => (
            <tr class="row" key={a.id} onClick={() => (location.hash = "#/anomalies/" + a.id)}>
              <td>{when(a.detected_at)}</td><td class={"sev sev-" + a.severity}>{a.severity}</td><td class="num">{usd(a.estimated_hourly_usd)}</td>
              <td class="hide-sm">{a.account_id}</td><td class="hide-sm">{a.region}</td><td class="actor">{a.actor}</td>
              <td><a href={"#/anomalies/" + a.id}>{a.summary}</a></td><td>{a.status}{a.notify_withheld ? ` (not notified: ${a.notify_withheld})` : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!rows.length && !error && <p class="muted">No anomalies match.</p>}
      {next && <button onClick={() => setCursor(next)}>More</button>}
    </div>
  );
}

function AnomalyDetail({ id, scope }) {
  const [s, reload] = useLoad(() => api("GET", `/v1/anomalies/${encodeURIComponent(id)}/detail`), [id]);
  const [error, setError] = useState(null);
  if (s.error) return <Failure error={s.error} />;
  if (!s.data) return <p class="muted">Loading…</p>;
  const { anomaly: a, events, timeline, links, monthly_usd } = s.data;
  const change = (status) => api("POST", `/v1/anomalies/${a.id}/status`, { status, by: "console" }).then(reload, setError);
  return (
    <>
      <div class="panel">
        <h2 class="summary">{a.summary}</h2>
        <dl class="kv">
          <dt>Severity</dt><dd class={"sev sev-" + a.severity}>{a.severity} (score {a.score.toFixed(2)})</dd>
          <dt>Cost</dt><dd>{usd(a.estimated_hourly_usd)}/h · {usd(monthly_usd, 0)}/month</dd>
          <dt>Who</dt><dd class="actor">{a.actor}</dd>
          <dt>Where</dt><dd>{a.account_id} · {a.region} · {a.service} ({a.resource_type})</dd>
          <dt>Resources</dt><dd>{links.resources.map((r) => <span key={r.id}>{r.url ? <a href={r.url} rel="noopener noreferrer" target="_blank">{r.id}</a> : r.id} </span>)}</dd>
          <dt>Detected</dt><dd>{when(a.detected_at)} UTC</dd>
          <dt>Status</dt><dd>{a.status}{a.notify_withheld ? ` — not notified (${a.notify_withheld})` : ""}{links.slack ? ` — Slack ${links.slack.channel}` : ""}</dd>
        </dl>
        {scope === "write" && <p class="modes">{["acknowledged", "expected", "false_positive", "open"].map((st) => <button key={st} onClick={() => change(st)} disabled={a.status === st}>{st.replace("_", " ")}</button>)}</p>}
        {error && <Failure error={error} />}
      </div>
      <div class="panel"><h3>Why: score components</h3><ComponentChart components={a.components} />
        <ul>{a.components.map((c) => <li key={c.name}><b>{c.name}</b>: {c.reason}</li>)}</ul></div>
      <div class="panel"><h3>Timeline</h3>
        <ul class="timeline" data-testid="timeline">{timeline.map((t, i) => <li key={i}><span class="when">{when(t.at)}</span><b>{t.kind}</b> {t.text}{t.actor ? <span class="muted"> — {t.actor}</span> : null}</li>)}</ul></div>
      <div class="panel"><h3>Cost events</h3>
        <table><thead><tr><th>Time</th><th>Call</th><th class="num">$/h</th><th class="hide-sm">Resources</th><th>CloudTrail</th></tr></thead>
          <tbody>{events.map((e) => <tr key={e.event_id}><td>{when(e.event_time)}</td><td>{e.event_name} ×{e.quantity}</td><td class="num">{usd(e.estimated_usd_per_hour)}</td>
            <td class="hide-sm">{e.resource_ids.join(", ")}</td><td><a href={e.cloudtrail_url} rel="noopener noreferrer" target="_blank">event</a></td></tr>)}</tbody></table></div>
    </>
  );
}

function Accounts() {
  const [s] = useLoad(() => api("GET", "/v1/accounts"), []);
  if (s.error) return <Failure error={s.error} />;
  if (!s.data) return <p class="muted">Loading…</p>;
  return (
    <div class="panel"><p class="muted">Flow health against the newest event seen ({when(s.data.clock)} UTC).</p>
      <table data-testid="accounts-table"><thead><tr><th>Account</th><th>Flow</th><th>Last event</th><th class="num">Events 24 h</th><th class="num">Per day (7 d)</th><th class="hide-sm">Regions</th></tr></thead>
        <tbody>{s.data.accounts.map((a) => <tr key={a.account_id}><td>{a.account_id}</td><td class={"flow-" + a.flow}>{a.flow}</td><td>{when(a.last_event_at)}</td>
          <td class="num">{a.events_last_24h}</td><td class="num">{a.events_per_day_7d}</td><td class="hide-sm">{a.regions.join(", ")}</td></tr>)}</tbody></table></div>
  );
}

function Zombies() {
  // GET /v1/zombies (the zombie hunter, issue 11): {zombies|findings: [ZombieFinding]}
  const [s] = useLoad(() => api("GET", "/v1/zombies"), []);
  if (s.error) return <div class="panel"><p class="muted">{s.error.status === 404 ? "The zombie hunter is not enabled on this deployment yet." : s.error.message}</p></div>;
  if (!s.data) return <p class="muted">Loading…</p>;
  const items = s.data.zombies || s.data.findings || [];
  const total = items.reduce((n, z) => n + (z.monthly_waste_usd || 0), 0);
  return (
    <div class="panel"><p>{items.length} idle resources, {usd(total, 0)}/month of waste.</p>
      <table data-testid="zombies-table"><thead><tr><th>Resource</th><th>Type</th><th class="hide-sm">Account · region</th><th class="num">$/month</th><th>Why</th><th class="hide-sm">Owner</th><th>Status</th></tr></thead>
      <tbody>{items.map((z) => <tr key={z.id}><td>{z.resource_name ? `${z.resource_name} (${z.resource_id})` : z.resource_id}</td><td>{z.resource_type}</td>
        <td class="hide-sm">{z.account_id} · {z.region}</td><td class="num">{usd(z.monthly_waste_usd, 0)}</td><td>{z.criterion}{z.verdict === "idle_suspect" ? " (suspect)" : ""}</td>
        <td class="hide-sm">{z.owner_name || ""}</td><td>{z.status}</td></tr>)}</tbody></table>
      {!items.length && <p class="muted">No zombies found.</p>}</div>
  );
}

function Settings({ scope }) {
  const [s, reload] = useLoad(() => Promise.all([api("GET", "/v1/settings"), api("GET", "/v1/audit?limit=30")]), []);
  const [error, setError] = useState(null);
  if (s.error) return <Failure error={s.error} />;
  if (!s.data) return <p class="muted">Loading…</p>;
  const [settings, audit] = s.data;
  const g = settings.governance;
  const setMode = (mode) => {
    if (!confirm(`Switch governance to ${mode}?`)) return;
    api("POST", "/v1/governance/mode", { mode, reason: "changed in the console", by: "console" }).then(reload, setError);
  };
  const panic = (on) => {
    if (!confirm(on ? "PANIC: halt every notification and remediation now, queued ones included?" : "Lift panic and resume?")) return;
    api("POST", "/v1/governance/panic", { on, reason: on ? "panic button in the console" : "lifted in the console", by: "console" }).then(reload, setError);
  };
  return (
    <>
      {(g.panic || g.global_panic) && <div class="banner" role="status" data-testid="panic-banner">Panic is ON{g.global_panic ? " (global, set by an operator)" : ""}: no notification or remediation goes out.</div>}
      <div class="panel">
        <h2>Governance</h2>
        <p>Mode: <b data-testid="mode">{g.mode}</b>{g.mode_since ? ` since ${when(g.mode_since)} UTC` : " (default)"}. Shadow scores and records, notifying no one; audit notifies; enforce may also remediate.</p>
        <p class="modes">{["shadow", "audit", "enforce"].map((m) => <button key={m} class={g.mode === m ? "on" : ""} disabled={scope !== "write"} onClick={() => setMode(m)}>{m}</button>)}</p>
        <p>{g.panic ? <button class="primary" disabled={scope !== "write"} onClick={() => panic(false)}>Lift panic</button>
          : <button class="danger" disabled={scope !== "write"} onClick={() => panic(true)}>PANIC — stop everything</button>}</p>
        <p class="muted">Automatic promotion after {g.policy.promote_after_days} days with ≥ {g.policy.min_reviewed} reviewed anomalies and a false-positive rate ≤ {Math.round(g.policy.fp_rate_ceiling * 100)}% (up to {g.policy.promote_max_mode}); demotion when it exceeds {Math.round(g.policy.demote_fp_rate * 100)}% over {g.policy.demote_window_days} days.</p>
        {error && <Failure error={error} />}
      </div>
      <div class="panel"><h2>Scoring</h2><dl class="kv">{Object.entries(settings.scoring_defaults).map(([k, v]) => <><dt key={k}>{k}</dt><dd>{settings.scoring[k] ?? v}{settings.scoring[k] != null ? "" : " (default)"}</dd></>)}</dl></div>
      <div class="panel"><h2>Audit log</h2>
        <table data-testid="audit-table"><thead><tr><th>When (UTC)</th><th>Who</th><th>What</th><th>Why</th></tr></thead>
          <tbody>{audit.entries.map((e) => <tr key={e.id}><td>{when(e.recorded_at)}</td><td>{e.actor} <span class="muted">({e.source})</span></td><td>{e.action} {e.state} <span class="muted">{e.subject}</span></td><td>{e.reason}</td></tr>)}</tbody></table></div>
    </>
  );
}

function App() {
  const [session, setSession] = useState(undefined);
  const route = useRoute();
  useEffect(() => {
    // `dd0c-cost demo` prints a link with a key in the fragment (never sent to a server): sign in, forget it
    const m = location.hash.match(/^#\/signin\?key=([A-Za-z0-9_-]+)$/);
    const start = m ? api("POST", "/v1/session", { key: m[1] }) : api("GET", "/v1/session");
    if (m) history.replaceState(null, "", location.pathname + "#/");
    start.then((s) => { csrf = s.csrf_token; setSession(s); }, () => setSession(null));
  }, []);
  if (session === undefined) return <p class="loading">Loading…</p>;
  if (!session) return <SignIn onSession={setSession} />;
  const signOut = () => api("DELETE", "/v1/session").finally(() => { csrf = null; setSession(null); });
  const nav = [["#/", "Overview"], ["#/anomalies", "Anomalies"], ["#/zombies", "Zombies"], ["#/accounts", "Accounts"], ["#/settings", "Settings"]];
  const m = route.match(/^\/anomalies\/([^/]+)$/);
  const page = m ? <AnomalyDetail id={decodeURIComponent(m[1])} scope={session.scope} />
    : route === "/anomalies" ? <Anomalies /> : route === "/zombies" ? <Zombies /> : route === "/accounts" ? <Accounts />
    : route === "/settings" ? <Settings scope={session.scope} /> : <Overview />;
  const current = "#" + (m ? "/anomalies" : route);
  return (
    <>
      <header><span class="brand">dd0c/cost</span>
        <nav>{nav.map(([href, label]) => <a key={href} href={href} class={current === href ? "active" : ""}>{label}</a>)}</nav>
        <span class="who">{session.tenant_name} · {session.scope} <button onClick={signOut}>Sign out</button></span></header>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById("app"));
