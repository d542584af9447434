/* mxsim dashboard: polls the control API and renders its figures.
 * Plain JS, no build step; charts by uPlot (vendored at build time).
 * Every figure comes from one API answer of the current poll, so a
 * paused page shows exactly window.mxdash.last. */
"use strict";

/* The control API's base path: every request goes through api(). */
const API_BASE = "/v1";

const POLL_MS = Number(new URLSearchParams(location.search).get("poll")) || 1000;
const HISTORY = 600;            /* chart points kept */
/* tick steps of the time axis, in simulated seconds */
const X_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
  7200, 10800, 21600, 43200, 86400, 172800, 604800];
const OUTCOMES = ["accepted", "deferred", "refused", "abandoned"];

const dash = {
  paused: false,
  last: null,                   /* the snapshot on screen */
  prev: null,                   /* the one before, for rates */
  polls: 0,
  selected: null,
  firstSeen: {},                /* "prov|outcome|reason" -> sim ms */
  hist: { t: [], prov: {} },    /* chart data */
  marks: [],                    /* control actions: {t, label} */
  timer: null,
  inflight: null,
};

/* A bearer token for a control API that wants one: open the page as
 * /#token=TOKEN once; it is kept for the tab (sessionStorage), never sent
 * anywhere but this origin. */
const TOKEN = (() => {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    sessionStorage.setItem("mxsim-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("mxsim-token");
})();

function api(path, opts) {
  opts = opts || {};
  if (TOKEN) opts.headers = { ...(opts.headers || {}), Authorization: "Bearer " + TOKEN };
  return fetch(API_BASE + path, opts).then(async (r) => {
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(`${r.status} ${body.error || r.statusText}`);
    return body;
  });
}

function $(id) { return document.getElementById(id); }

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells, attrs) {
  const tr = document.createElement("tr");
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el("td", c));
  if (attrs) for (const [k, v] of Object.entries(attrs)) tr.setAttribute(k, v);
  return tr;
}

function fig(value, name) {
  const td = el("td", value, "num");
  td.dataset.fig = name;
  return td;
}

function simTime(ms) { return ms == null ? "–" : new Date(ms).toISOString().replace(".000Z", "Z"); }
function pct(x) { return x == null ? "–" : (100 * x).toFixed(1) + " %"; }
function rate(x) { return x == null ? "–" : x.toFixed(1); }

/* One poll: every answer fetched, then rendered together. */
async function fetchSnapshot() {
  const sel = dash.selected;
  const q = sel ? "?provider=" + encodeURIComponent(sel) : "";
  const [clock, counters, activity, providers] = await Promise.all([
    api("/clock"), api("/counters"), api("/activity"), api("/providers")]);
  const names = providers.providers.map((p) => p.name);
  const prov = sel && names.includes(sel) ? sel : names[0];
  const pq = prov ? "?provider=" + encodeURIComponent(prov) : q;
  const [senders, postmaster] = await Promise.all([
    api("/senders" + pq), api("/postmaster" + pq).catch(() => null)]);
  return { at: performance.now(), clock, counters, activity, providers,
           senders, postmaster, selected: prov };
}

async function pollOnce() {
  if (dash.inflight) await dash.inflight.catch(() => {});
  dash.inflight = fetchSnapshot();
  try {
    const snap = await dash.inflight;
    dash.prev = dash.last;
    dash.last = snap;
    dash.polls++;
    render(snap);
    $("poll-state").textContent = dash.paused ? "paused" : "live";
    $("poll-state").className = "state " + (dash.paused ? "paused" : "live");
  } catch (e) {
    $("poll-state").textContent = "no answer: " + e.message;
    $("poll-state").className = "state down";
  } finally {
    dash.inflight = null;
  }
}

function schedule() {
  clearTimeout(dash.timer);
  if (!dash.paused) dash.timer = setTimeout(async () => { await pollOnce(); schedule(); }, POLL_MS);
}

/* Rates per wall second between the last two snapshots. */
function rates(snap, name) {
  const p = dash.prev;
  if (!p || !p.counters.providers[name]) return null;
  const dt = (snap.at - p.at) / 1000;
  if (dt <= 0) return null;
  const a = snap.counters.providers[name].transactions, b = p.counters.providers[name].transactions;
  const out = {};
  for (const o of OUTCOMES) out[o] = Math.max(0, a[o] - b[o]) / dt;
  return out;
}

function render(snap) {
  dash.selected = snap.selected;
  $("sim-time").textContent = snap.clock.sim;
  $("time-scale").textContent = snap.clock.time_scale + "×";
  $("wall-time").textContent = snap.clock.wall;
  for (const s of document.querySelectorAll(".sel-name")) s.textContent = snap.selected || "";
  renderProviderSelect(snap);
  renderProviders(snap);
  renderReasons(snap);
  renderSenders(snap);
  renderPostmaster(snap);
  renderLimitKeys(snap);
  updateCharts(snap);
}

function renderProviderSelect(snap) {
  const sel = $("provider");
  const names = snap.providers.providers.map((p) => p.name);
  if (sel.options.length !== names.length) {
    sel.replaceChildren(...names.map((n) => { const o = el("option", n); o.value = n; return o; }));
  }
  sel.value = snap.selected;
}

function renderProviders(snap) {
  const body = [];
  for (const p of snap.providers.providers) {
    const c = snap.counters.providers[p.name];
    if (!c) continue;
    const r = rates(snap, p.name) || {};
    const act = snap.activity.providers[p.name] || {};
    const t = c.transactions;
    body.push(row([
      el("td", p.name),
      fig(t.accepted, p.name + ".accepted"), fig(t.deferred, p.name + ".deferred"),
      fig(t.refused, p.name + ".refused"), fig(t.abandoned, p.name + ".abandoned"),
      el("td", rate(r.accepted), "num"), el("td", rate(r.deferred), "num"),
      el("td", rate(r.refused), "num"),
      fig(act.open_connections, p.name + ".open_connections"),
      el("td", p.outage.active ? "until " + p.outage.until : "–", p.outage.active ? "bad" : ""),
    ], { "data-provider": p.name }));
  }
  $("providers").tBodies[0].replaceChildren(...body);
  const tot = snap.counters.totals;
  $("providers").tFoot.replaceChildren(row([
    el("td", "total"),
    fig(tot.transactions.accepted, "total.accepted"), fig(tot.transactions.deferred, "total.deferred"),
    fig(tot.transactions.refused, "total.refused"), fig(tot.transactions.abandoned, "total.abandoned"),
    el("td", ""), el("td", ""), el("td", ""),
    fig(tot.open_connections, "total.open_connections"), el("td", ""),
  ]));
}

function renderReasons(snap) {
  const now = snap.clock.sim_ms;
  const list = [];
  for (const [name, p] of Object.entries(snap.activity.providers)) {
    for (const r of p.reasons) {
      const k = name + "|" + r.outcome + "|" + r.reason;
      /* mxsim's time of the reply's first sending; else first polled */
      if (!(k in dash.firstSeen)) dash.firstSeen[k] = now;
      if (name === snap.selected) list.push({ ...r, first: r.first_ms || dash.firstSeen[k] });
    }
  }
  list.sort((a, b) => a.first - b.first || a.reason.localeCompare(b.reason));
  $("reasons").tBodies[0].replaceChildren(...list.map((r) => row([
    el("td", simTime(r.first)), el("td", r.outcome, r.outcome === "refused" ? "bad" : "warn"),
    el("td", r.reason),
    el("td", `${r.code} ${r.enhanced || ""} ${r.text || ""}`, "reply"),
    fig(r.count, `${snap.selected}.${r.outcome}.${r.reason}`),
  ])));
}

/* One window of a sender: messages accepted against the limit line, and
 * recipients when the profile limits them in that window. */
function bar(acc, win) {
  const td = el("td", null, "win");
  for (const [what, w] of [["msg", acc.messages[win]], ["rcpt", acc.recipients[win]]]) {
    if (what === "rcpt" && !w.limit) continue;
    const txt = `${w.count}${w.limit ? " / " + w.limit : ""}${what === "rcpt" ? " rcpt" : ""}`;
    td.appendChild(el("div", txt));
    if (w.limit) {
      const b = el("div", null, "bar");
      const f = el("div", null, w.count >= w.limit ? "fill full" : "fill");
      f.style.width = Math.min(100, (100 * w.count) / w.limit) + "%";
      b.appendChild(f);
      td.appendChild(b);
    }
  }
  return td;
}

function renderSenders(snap) {
  const p = snap.senders.providers[snap.selected];
  const rows = [];
  for (const kind of ["ips", "domains"]) {
    for (const s of (p && p[kind]) || []) {
      const rep = s.reputation;
      const st = s.state;
      const repCls = rep.score < rep.block_below ? "bad" : rep.score < rep.temp_below ? "warn" : "";
      const stTxt = st.state === "ok" ? "ok" :
        `${st.state}: ${st.reason} ${st.code}${st.enhanced ? " " + st.enhanced : ""}` +
        (st.window ? ` (${st.counter === "recipients" ? "recipients " : ""}${st.window} ${st.limit})` : "");
      rows.push(row([
        el("td", kind === "ips" ? "IP" : "domain"), el("td", s.key),
        bar(s.accepted, "minute"), bar(s.accepted, "hour"), bar(s.accepted, "day"),
        el("td", rep.score.toFixed(1), repCls),
        el("td", s.open_connections ? s.open_connections.count : "–", "num"),
        el("td", stTxt, st.state === "ok" ? "" : st.state === "blocked" ? "bad" : "warn"),
        el("td", simTime(st.until_ms)),
      ], { "data-sender": s.key }));
    }
  }
  $("senders").tBodies[0].replaceChildren(...rows);
}

function renderPostmaster(snap) {
  const rows = [];
  const p = snap.postmaster && snap.postmaster.providers[snap.selected];
  for (const [kind, label] of [["domains", "domain"], ["ips", "IP"]]) {
    for (const [key, days] of Object.entries((p && p[kind]) || {})) {
      for (const d of days) {
        const errs = d.errors.map((e) => `${e.code} ${e.enhanced || ""} ×${e.count}`).join(", ");
        rows.push(row([
          el("td", d.day), el("td", label), el("td", key), el("td", d.messages, "num"),
          el("td", pct(d.spam_rate)),
          el("td", d.reputation == null ? "–" : `${d.reputation.toFixed(1)} (${d.band})`),
          el("td", pct(d.spf_rate)), el("td", pct(d.dkim_rate)), el("td", pct(d.dmarc_rate)),
          el("td", pct(d.tls_share)), el("td", errs || "–"),
        ]));
      }
    }
  }
  rows.sort((a, b) => a.cells[0].textContent.localeCompare(b.cells[0].textContent));
  $("postmaster").tBodies[0].replaceChildren(...rows);
}

/* Leaves of a limits object: ["per_ip.messages.minute", value]. */
function leaves(o, pre) {
  const out = [];
  for (const [k, v] of Object.entries(o)) {
    const p = pre ? pre + "." + k : k;
    if (v && typeof v === "object") out.push(...leaves(v, p));
    else out.push([p, v]);
  }
  return out;
}

function renderLimitKeys(snap) {
  const p = snap.providers.providers.find((x) => x.name === snap.selected);
  if (!p) return;
  const sel = $("limit-key");
  const keep = sel.value;
  const opts = leaves(p.limits).map(([k, v]) => {
    const o = el("option", `${k} (now ${v})`);
    o.value = k;
    return o;
  });
  if (sel.dataset.provider !== p.name || sel.options.length !== opts.length ||
      [...sel.options].some((o, i) => o.textContent !== opts[i].textContent)) {
    sel.replaceChildren(...opts);
    sel.dataset.provider = p.name;
    if (keep && [...sel.options].some((o) => o.value === keep)) sel.value = keep;
  }
}

/* -- charts -------------------------------------------------------- */

const charts = {};

function markPlugin() {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = "#7a3cc8";
        ctx.fillStyle = "#7a3cc8";
        ctx.font = `${11 * devicePixelRatio}px sans-serif`;
        dash.marks.forEach((m, i) => {
          const x = u.valToPos(m.t, "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          /* labels of close marks on four staggered lines */
          ctx.fillText(m.label, x + 4, u.bbox.top + (12 + 13 * (i % 4)) * devicePixelRatio);
        });
        ctx.restore();
      },
    },
  };
}

function makeChart(id, series) {
  const div = $(id);
  if (typeof uPlot === "undefined") {
    div.textContent = "no charts: this mxsim was built without npm (uPlot is vendored at build time)";
    return null;
  }
  return new uPlot({
    width: Math.max(300, div.clientWidth || 560), height: 220,
    scales: { x: { time: true } },
    legend: { live: false },
    /* simulated UTC time of day; ticks whole seconds apart at least, so
     * a short span does not repeat one label */
    axes: [{ incrs: X_INCRS, space: 70,
             values: (u, splits) => splits.map((v) => new Date(v * 1000).toISOString().slice(11, 19)) },
           { label: "per second" }],
    series: [{ label: "simulated time" }, ...series],
    plugins: [markPlugin()],
  }, [[], ...series.map(() => [])], div);
}

const COLORS = { accepted: "#2e8b57", deferred: "#e69500", refused: "#c0392b", abandoned: "#888" };
const PALETTE = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

function updateCharts(snap) {
  const names = snap.providers.providers.map((p) => p.name);
  const t = snap.clock.sim_ms / 1000;
  const h = dash.hist;
  if (!dash.prev) return;
  h.t.push(t);
  for (const n of names) {
    const r = rates(snap, n) || {};
    const s = h.prov[n] || (h.prov[n] = { accepted: [], deferred: [], refused: [], abandoned: [] });
    while (s.accepted.length < h.t.length - 1) for (const o of OUTCOMES) s[o].push(null);
    for (const o of OUTCOMES) s[o].push(r[o] == null ? null : r[o]);
  }
  if (h.t.length > HISTORY) {
    h.t.shift();
    for (const s of Object.values(h.prov)) for (const o of OUTCOMES) s[o].shift();
  }
  if (typeof uPlot === "undefined") {
    makeChart("chart-outcomes", []);
    makeChart("chart-providers", []);
    return;
  }
  if (!charts.outcomes) {
    charts.outcomes = makeChart("chart-outcomes",
      ["accepted", "deferred", "refused"].map((o) => ({ label: o, stroke: COLORS[o], width: 2 })));
  }
  if (!charts.providers || charts.providersKey !== names.join()) {
    if (charts.providers) charts.providers.destroy();
    charts.providers = makeChart("chart-providers",
      names.map((n, i) => ({ label: n, stroke: PALETTE[i % PALETTE.length], width: 2 })));
    charts.providersKey = names.join();
  }
  const sel = h.prov[snap.selected];
  if (sel) charts.outcomes.setData([h.t, sel.accepted, sel.deferred, sel.refused]);
  charts.providers.setData([h.t, ...names.map((n) => (h.prov[n] || { accepted: [] }).accepted)]);
}

/* -- controls ------------------------------------------------------- */

function say(text, ok) {
  const p = $("control-result");
  p.textContent = text;
  p.className = "result " + (ok ? "ok" : "bad");
}

async function control(label, path, method, body) {
  try {
    await api(path, { method, headers: { "Content-Type": "application/json" },
                      body: body === undefined ? undefined : JSON.stringify(body) });
    dash.marks.push({ t: dash.last ? dash.last.clock.sim_ms / 1000 : 0, label });
    await pollOnce();           /* the change on screen, then the word */
    say(`${label}: done`, true);
  } catch (e) {
    say(`${label}: ${e.message}`, false);
  }
}

function nested(path, value) {
  const out = {};
  let o = out;
  const ks = path.split(".");
  ks.slice(0, -1).forEach((k) => { o = o[k] = {}; });
  o[ks[ks.length - 1]] = value;
  return out;
}

function wire() {
  $("provider").addEventListener("change", (e) => { dash.selected = e.target.value; pollOnce(); });
  const prov = () => encodeURIComponent(dash.selected);
  $("limit-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = $("limit-key").value, v = Number($("limit-value").value);
    control(`${dash.selected} ${key}=${v}`, `/providers/${prov()}/limits`, "PATCH", nested(key, v));
  });
  $("outage-form").addEventListener("submit", (e) => {
    e.preventDefault();
    control(`${dash.selected} outage`, `/providers/${prov()}/outage`, "PUT",
            { duration_s: Number($("outage-s").value) });
  });
  $("outage-end").addEventListener("click", () =>
    control(`${dash.selected} outage ended`, `/providers/${prov()}/outage`, "DELETE"));
  $("rep-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const kind = $("rep-kind").value, key = $("rep-key").value.trim();
    control(`${dash.selected} ${key} reputation`,
            `/reputation/${kind}/${prov()}/${encodeURIComponent(key)}`, "PUT",
            { score: Number($("rep-score").value) });
  });
}

/* Hooks for tests and for a reader who wants the page still:
 * mxdash.pause() stops polling once the poll in flight has rendered. */
window.mxdash = {
  get last() { return dash.last; },
  get polls() { return dash.polls; },
  get paused() { return dash.paused; },
  async pause() { dash.paused = true; clearTimeout(dash.timer); if (dash.inflight) await dash.inflight.catch(() => {}); $("poll-state").textContent = "paused"; },
  resume() { dash.paused = false; schedule(); },
  pollOnce,
  select(name) { dash.selected = name; return pollOnce(); },
};

wire();
pollOnce().then(schedule);
