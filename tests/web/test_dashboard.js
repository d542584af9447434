#!/usr/bin/env node
/* The dashboard in a real browser: Debian's chromium, headless, driven by
 * puppeteer-core (pinned in package-lock.json, installed into the build
 * directory).  A real mxsim on loopback with --control, real mxload runs
 * against it:
 *   1. during a load: the page paused (window.mxdash.pause()) shows
 *      exactly the /counters answer of its last poll;
 *   2. once the load ended and the counters are still: a poll of the page
 *      between two equal GET /counters shows those figures;
 *   3. a limit set through the page's form (gmail per_ip.messages.day 1)
 *      is in the API, and the next mxload messages from the same IP are
 *      all deferred, which the page shows (deferred count, gmail's
 *      daily_cap reply with its text, the sender's state);
 *   4. the outage and reputation forms reach the API and the page shows
 *      their effect (outage column, the sender blocked);
 *   5. no console error and no uncaught exception in the page.
 * Screenshots are written under BUILD/web-test/ (paths printed).  No
 * assertion depends on timing: waits are for conditions, bounded.
 *
 * Usage: test_dashboard.js --build BUILD_DIR
 * Prints one line per check and ends with "dashboard: N passed, N failed".
 *
 * test_dashboard.js --build BUILD_DIR --screenshot URL FILE [--provider P]
 *     [--polls N]
 * only saves a screenshot of a running dashboard (e.g. during
 * harness/demo.sh), provider P selected, after N polls (default 5).
 */
"use strict";
const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");
const { createRequire } = require("module");

const CHROMIUM = "/usr/bin/chromium";
const SRC = "127.0.91.7";            /* mxload's source address */
const GMAIL = "127.1.0.0/24";        /* the bundled scenario's gmail MX */

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : null;
}

/* puppeteer-core from the pinned lock, into BUILD/web-test (npm ci once;
 * quiet when the installed lock is the committed one) */
function puppeteer(outDir) {
  const here = __dirname;
  const lock = fs.readFileSync(path.join(here, "package-lock.json"));
  const have = path.join(outDir, "package-lock.json");
  const mod = path.join(outDir, "node_modules", "puppeteer-core");
  if (!fs.existsSync(mod) || !fs.existsSync(have) || !fs.readFileSync(have).equals(lock)) {
    fs.copyFileSync(path.join(here, "package.json"), path.join(outDir, "package.json"));
    fs.copyFileSync(path.join(here, "package-lock.json"), have);
    const r = spawnSync("npm", ["ci", "--silent", "--no-audit", "--no-fund"],
                        { cwd: outDir, stdio: "inherit" });
    if (r.status !== 0) throw new Error("npm ci (puppeteer-core) failed");
  }
  return createRequire(path.join(outDir, "package.json"))("puppeteer-core");
}

/* a TCP port nothing listens on (tried on 0.0.0.0, like mxsim_proc.py),
 * in a range of its own (26500..26999) starting at a pid-dependent place */
async function freePort(avoid) {
  const base = (process.pid % 50) * 10;
  for (let i = 0; i < 500; i++) {
    const port = 26500 + ((base + i) % 500);
    if (avoid.includes(port)) continue;
    const ok = await new Promise((res) => {
      const s = net.createServer();
      s.once("error", () => res(false));
      s.listen(port, "0.0.0.0", () => s.close(() => res(true)));
    });
    if (ok) return port;
  }
  throw new Error("no free port in 26500..26999");
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/* wait for cond() to hold: bounded, for conditions, never for timing */
async function until(what, cond, limitMs = 30000) {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error("gave up waiting for " + what);
    await sleep(50);
  }
}

function mxload(build, port, n) {
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(build, "harness", "mxload"),
      ["-q", "-t", `gmail=${GMAIL}:${port}@gmail.com`, "-s", SRC + "/32",
       "-f", "auth.example", "-n", String(n), "-r", "200", "-c", "2", "-m", "5"],
      { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => { out += d; });
    p.stderr.on("data", (d) => { err += d; });
    p.on("close", (rc) => {
      const m = out.match(/outcome\s+accepted (\d+)\s+deferred (\d+)\s+rejected (\d+)\s+error (\d+)/);
      if (rc !== 0 || !m) reject(new Error(`mxload rc ${rc}: ${out}${err}`));
      else resolve({ accepted: +m[1], deferred: +m[2], rejected: +m[3], error: +m[4], out });
    });
  });
}

const OUTCOMES = ["accepted", "deferred", "refused", "abandoned"];

/* once traffic has ended: GET /counters, a poll of the (paused) page,
 * GET /counters again, until both answers agree; the page's poll then
 * saw those counters.  Returns them. */
async function stillPoll(page, get) {
  let still = null;
  await until("counters at rest", async () => {
    const a = await get("/counters");
    await page.evaluate(() => window.mxdash.pollOnce());
    const b = await get("/counters");
    if (JSON.stringify(a) !== JSON.stringify(b)) return false;
    still = b;
    return true;
  });
  return still;
}

/* the figures the page shows ([data-fig] cells) */
function shown(page) {
  return page.$$eval("[data-fig]", (tds) =>
    Object.fromEntries(tds.map((td) => [td.dataset.fig, td.textContent])));
}

/* what the page should show for a /counters answer */
function expected(counters) {
  const out = {};
  for (const [name, p] of Object.entries(counters.providers))
    for (const o of OUTCOMES) out[`${name}.${o}`] = String(p.transactions[o]);
  for (const o of OUTCOMES) out[`total.${o}`] = String(counters.totals.transactions[o]);
  return out;
}

function diff(want, got) {
  const bad = [];
  for (const [k, v] of Object.entries(want))
    if (got[k] !== v) bad.push(`${k}: shown ${got[k]}, /counters ${v}`);
  return bad;
}

/* --screenshot URL FILE: one picture of a running dashboard */
async function screenshot(pptr, url, file, provider, polls) {
  const browser = await pptr.launch({ executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--no-proxy-server", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1500 });
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => window.mxdash && window.mxdash.polls > 0);
    if (provider) await page.evaluate((p) => window.mxdash.select(p), provider);
    const n = await page.evaluate(() => window.mxdash.polls);
    await page.waitForFunction((k) => window.mxdash.polls >= k, { timeout: 0 }, n + polls);
    await page.screenshot({ path: file, fullPage: true });
    console.log("screenshot: " + path.resolve(file));
  } finally {
    await browser.close();
  }
}

async function main() {
  const build = path.resolve(arg("--build") || "build-test");
  const outDir = path.join(build, "web-test");
  fs.mkdirSync(outDir, { recursive: true });
  const pptr = puppeteer(outDir);
  const shotAt = process.argv.indexOf("--screenshot");
  if (shotAt > 0) {
    await screenshot(pptr, process.argv[shotAt + 1], process.argv[shotAt + 2], arg("--provider"),
                     Number(arg("--polls") || 5));
    return;
  }
  const results = [];
  const check = (name, ok, detail) => {
    results.push(ok);
    console.log(`  ${ok ? "ok  " : "FAIL"} ${name}${ok || !detail ? "" : ": " + detail}`);
  };

  const port = await freePort([]);
  const cport = await freePort([port]);
  const base = `http://127.0.0.1:${cport}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxsim-web-"));
  const ready = path.join(tmp, "ready");
  const mx = spawn(path.join(build, "sim", "mxsim"),
    ["--port", String(port), "--control", `127.0.0.1:${cport}`, "-t", "10",
     "--ready-file", ready, "--event-log", path.join(tmp, "events.jsonl")],
    { stdio: ["ignore", fs.openSync(path.join(tmp, "stdout"), "w"),
              fs.openSync(path.join(tmp, "stderr"), "w")] });
  let browser = null;
  const errors = [];
  try {
    await until("mxsim ready", () => fs.existsSync(ready) || mx.exitCode !== null);
    if (mx.exitCode !== null) throw new Error("mxsim exited: " + fs.readFileSync(path.join(tmp, "stderr")));
    const get = async (p) => (await fetch(base + "/v1" + p)).json();

    browser = await pptr.launch({ executablePath: CHROMIUM, headless: true,
      args: ["--no-sandbox", "--no-proxy-server", "--disable-gpu"] });
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1500 });
    page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
    page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
    page.on("requestfailed", (r) => errors.push("request failed: " + r.url()));
    await page.goto(base + "/?poll=250", { waitUntil: "load" });
    await page.waitForFunction(() => window.mxdash && window.mxdash.polls > 0);
    check("page loads, uPlot present, polls /counters",
      await page.evaluate(() => typeof uPlot === "function" && window.mxdash.last.counters.totals !== undefined));

    /* 1. during a load */
    const load1 = mxload(build, port, 60);
    await page.waitForFunction(() => window.mxdash.last.counters.providers.gmail.transactions.accepted > 0,
      { timeout: 30000 });
    await page.evaluate(() => window.mxdash.pause());
    const last = await page.evaluate(() => window.mxdash.last.counters);
    const bad1 = diff(expected(last), await shown(page));
    check("during the load, the paused page shows its last /counters answer", bad1.length === 0, bad1.join("; "));
    const shot1 = path.join(outDir, "dashboard-during-load.png");
    await page.screenshot({ path: shot1, fullPage: true });
    await page.evaluate(() => window.mxdash.resume());
    const r1 = await load1;

    /* 2. after the load: /counters, a page poll, /counters again */
    await page.evaluate(() => window.mxdash.pause());
    const still = await stillPoll(page, get);
    const bad2 = diff(expected(still), await shown(page));
    check(`after the load (${r1.accepted} accepted), the page equals /counters`, bad2.length === 0, bad2.join("; "));
    const acc0 = still.providers.gmail.transactions.accepted;
    const def0 = still.providers.gmail.transactions.deferred;
    check("mxload's accepted messages are gmail's accepted transactions", acc0 === r1.accepted,
      `${acc0} vs ${r1.accepted}`);

    /* 3. a limit through the page's form */
    await page.select("#provider", "gmail");
    await page.evaluate(() => window.mxdash.pollOnce());
    await page.select("#limit-key", "per_ip.messages.day");
    await page.$eval("#limit-value", (e) => { e.value = ""; });
    await page.type("#limit-value", "1");
    await page.click("#limit-form button[type=submit]");
    await page.waitForFunction(() => /done|: \d{3}/.test(document.getElementById("control-result").textContent));
    const res = await page.$eval("#control-result", (e) => e.textContent);
    const lim = await get("/providers/gmail/limits");
    check("the form's PATCH set gmail per_ip.messages.day to 1", lim.per_ip.messages.day === 1,
      `${res}; limits.per_ip.messages.day ${lim.per_ip.messages.day}`);
    const r2 = await mxload(build, port, 20);
    check("the next 20 messages from the same IP are all deferred", r2.deferred === 20 && r2.accepted === 0,
      r2.out.trim());
    const after = await stillPoll(page, get);
    const fig = await shown(page);
    check("the page shows 20 more gmail deferrals and no more accepted",
      fig["gmail.deferred"] === String(def0 + 20) && fig["gmail.accepted"] === String(acc0) &&
      diff(expected(after), fig).length === 0,
      `deferred ${fig["gmail.deferred"]} (was ${def0}), accepted ${fig["gmail.accepted"]} (was ${acc0})`);
    const reasons = await page.$$eval("#reasons tbody tr", (trs) => trs.map((t) => t.textContent));
    check("the reasons list shows daily_cap with its reply text",
      reasons.some((t) => /daily_cap/.test(t) && /421 4\.7\.28 Gmail has detected/.test(t)),
      reasons.join(" | "));
    const sender = await page.$eval(`#senders tr[data-sender="${SRC}"]`, (t) => t.textContent).catch(() => "");
    check(`the sender ${SRC} is shown deferred by daily_cap (day 1)`,
      /deferred: daily_cap 421/.test(sender) && /day 1/.test(sender), sender);

    /* 4. the other controls: an outage, a reputation */
    await page.$eval("#outage-s", (e) => { e.value = "36000"; });   /* ten simulated hours: one hour here */
    await page.click("#outage-form button[type=submit]");
    await page.waitForFunction(() => /outage: done/.test(document.getElementById("control-result").textContent));
    const outOn = await page.$eval('#providers tr[data-provider="gmail"] td:last-child', (t) => t.textContent);
    const apiOn = (await get("/providers/gmail/outage")).active;
    await page.click("#outage-end");
    await page.waitForFunction(() => /outage ended: done/.test(document.getElementById("control-result").textContent));
    const outOff = await page.$eval('#providers tr[data-provider="gmail"] td:last-child', (t) => t.textContent);
    check("Start outage and End outage reach the API and show in the table",
      apiOn === true && /^until 20/.test(outOn) && outOff === "–" && !(await get("/providers/gmail/outage")).active,
      `shown "${outOn}" then "${outOff}", API active ${apiOn}`);
    await page.select("#rep-kind", "ip");
    await page.type("#rep-key", SRC);
    await page.type("#rep-score", "10");
    await page.click("#rep-form button[type=submit]");
    await page.waitForFunction(() => /reputation: done/.test(document.getElementById("control-result").textContent));
    const repApi = (await get(`/reputation/ip/gmail/${SRC}`)).score;
    const blocked = await page.$eval(`#senders tr[data-sender="${SRC}"]`, (t) => t.textContent).catch(() => "");
    check(`Set reputation 10 for ${SRC}: the API has it, the page shows it blocked`,
      repApi >= 10 && repApi < 11 && /blocked: reputation\.block 550/.test(blocked), `score ${repApi}; ${blocked}`);

    await page.evaluate(() => window.mxdash.resume());
    await page.waitForFunction((n) => window.mxdash.polls > n, {}, await page.evaluate(() => window.mxdash.polls) + 2);
    const shot2 = path.join(outDir, "dashboard-after-limit.png");
    await page.screenshot({ path: shot2, fullPage: true });
    check("no JavaScript error in the page", errors.length === 0, errors.join("; "));
    console.log("  screenshots: " + shot1);
    console.log("               " + shot2);
  } catch (e) {
    check("dashboard run", false, e.stack || String(e));
  } finally {
    if (browser) await browser.close();
    if (mx.exitCode === null) {
      mx.kill("SIGTERM");
      await until("mxsim exit", () => mx.exitCode !== null || mx.signalCode !== null).catch(() => mx.kill("SIGKILL"));
    }
    check("mxsim exits cleanly", mx.exitCode === 0, `rc ${mx.exitCode}: ` +
      fs.readFileSync(path.join(tmp, "stderr"), "utf8").split("\n").slice(-15).join("\n"));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const passed = results.filter(Boolean).length;
  console.log(`dashboard: ${passed} passed, ${results.length - passed} failed`);
  process.exit(passed === results.length ? 0 : 1);
}

main();
