// make bench-http: one express app (http-app.js: express + express-session,
// each request reads the session and adds one to a counter in it) with three
// session stores, under autocannon:
//   - express-session's MemoryStore (no Redis at all: the upper bound),
//   - connect-redis (the whole session as JSON under sess:<id>), node-redis 5,
//   - SessStore (sess-express-store, clients/express) on the module, node-redis 5,
// both Redis stores against the same redis-server with the module, started
// here (bench/run.sh pins it to core 0, the app and autocannon to core 1).
//
// Each run: a fresh app process (child_process.fork), N sessions obtained by
// one login request each, a warm-up, then autocannon with C connections for
// D seconds, the N cookies taken round-robin, one per request. Rounds
// alternate the stores (the order rotating); each figure is the median over
// the rounds. Redis server time per request is the total usec of INFO
// commandstats (reset before the measured run) over the requests served.
//
// Usage: node http.js [--quick] [--readme] [--rounds R] [--duration D] [--warmup W] [--sessions N] [--connections C]
//   --quick   1 round of 2 s per store, for a smoke test
//   --stores  a comma-separated subset of memory,connect-redis,sess
//   --readme  also write docs/bench-http.svg and the report into
//             docs/benchmarks.md (between the bench-http markers)
// Saves the report to bench/results/http.md and the chart to bench/results/http.svg.

"use strict";

const { fork } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const autocannon = require("autocannon");
const { ROOT, MODULE, PINNED, freePort, startRedis, commandStats, writeBenchmarksSection } = require("./common");

const argv = process.argv.slice(2);
const QUICK = argv.includes("--quick");
function option(name, fallback) {
  const at = argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(argv[at + 1]);
  if (!(value > 0)) throw new Error(`--${name} needs a positive number`);
  return value;
}
const ROUNDS = option("rounds", QUICK ? 1 : 7);
const DURATION = option("duration", QUICK ? 2 : 10);
const WARMUP = option("warmup", QUICK ? 1 : 3);
const SESSIONS = option("sessions", 50);
const CONNECTIONS = option("connections", 50);
const TARGET = 0.95; // SessStore ≥ 0.95× connect-redis, requests/s
// --stores memory,connect-redis,sess: a subset, for a look at one store (no target then).
const ONLY = argv.includes("--stores") ? argv[argv.indexOf("--stores") + 1].split(",") : null;

const log = (...args) => console.error(...args);
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Read from the file: connect-redis's "exports" hide its package.json.
const version = (name) => JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", name, "package.json"), "utf8")).version;

const STORES = [
  { key: "memory", label: "MemoryStore", detail: `express-session ${version("express-session")}, in the app's process` },
  { key: "connect-redis", label: "connect-redis", detail: `connect-redis ${version("connect-redis")}, node-redis ${version("redis5")}` },
  { key: "sess", label: "SessStore", detail: `sess-express-store ${version("sess-express-store")}, node-redis ${version("redis5")}` },
].filter((s) => !ONLY || ONLY.includes(s.key));
if (STORES.length === 0) throw new Error("--stores names none of memory, connect-redis, sess");

// ---------------------------------------------------------------- the app

function startApp(store, redisPort, port) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, "http-app.js"), [], {
      env: { ...process.env, SESS_HTTP_STORE: store, SESS_HTTP_PORT: String(port), SESS_HTTP_REDIS_PORT: String(redisPort) },
      // Its output goes to stderr: stdout is the report's.
      stdio: ["ignore", 2, 2, "ipc"],
    });
    const timer = setTimeout(() => reject(new Error(`the ${store} app did not start within 20 s`)), 20000);
    child.once("message", (message) => {
      clearTimeout(timer);
      if (message && message.ready) resolve(child);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${store} app exited (${code}) before it listened`));
    });
  });
}

function stopApp(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.send("stop");
  });
}

function request(port, method, pathname, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path: pathname, headers: cookie ? { cookie } : {}, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

// One login request per session; the cookies as a browser sends them back.
async function login(port) {
  const cookies = [];
  for (let i = 0; i < SESSIONS; i++) {
    const res = await request(port, "POST", `/login?user=user${String(i).padStart(4, "0")}`);
    const set = res.headers["set-cookie"];
    if (res.status !== 200 || !set) throw new Error(`login ${i}: HTTP ${res.status}, no cookie: ${res.body}`);
    cookies.push(set[0].split(";")[0]);
  }
  return cookies;
}

async function views(port, cookie) {
  const res = await request(port, "GET", "/", cookie);
  if (res.status !== 200) throw new Error(`GET / with a session: HTTP ${res.status}: ${res.body}`);
  return JSON.parse(res.body).views;
}

// autocannon, each request carrying the next cookie (setupRequest runs for
// every request when it is a function). autocannon's own latency histogram
// keeps whole milliseconds: the percentiles come from each response's time.
const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function load(port, cookies, seconds) {
  let next = 0;
  const times = [];
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: "GET",
        path: "/",
        setupRequest: (req) => {
          req.headers.cookie = cookies[next++ % cookies.length];
          return req;
        },
      },
    ],
  });
  instance.on("response", (client, statusCode, bytes, ms) => times.push(ms));
  const result = await instance;
  times.sort((a, b) => a - b);
  result.p50 = percentile(times, 0.5);
  result.p99 = percentile(times, 0.99);
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) {
    throw new Error(`${failed} failed requests (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}) of ${result.requests.total}`);
  }
  return result;
}

// ---------------------------------------------------------------- one run

async function run(store, redis) {
  const { client, port: redisPort } = redis;
  await client.flushAll();
  const port = await freePort();
  const app = await startApp(store.key, redisPort, port);
  try {
    const cookies = await login(port);
    if ((await views(port, cookies[0])) !== 1) throw new Error(`${store.key}: the first request after login did not count 1`);
    await load(port, cookies, WARMUP);
    const before = await Promise.all(cookies.map((c) => views(port, c)));
    await client.sendCommand(["CONFIG", "RESETSTAT"]);
    const result = await load(port, cookies, DURATION);
    const stats = await commandStats(client);
    // Every session's counter went on from where it was: the writes reached the store.
    const after = await Promise.all(cookies.map((c) => views(port, c)));
    const lost = after.filter((v, i) => !(v > before[i] + 1)).length;
    if (lost > 0) throw new Error(`${store.key}: ${lost} of ${cookies.length} sessions did not count the measured requests`);
    const requests = result.requests.total;
    let usec = 0;
    const commands = [];
    for (const [name, s] of Object.entries(stats)) {
      if (name.startsWith("config") || name === "info") continue;
      usec += s.usec;
      commands.push(`${name.toUpperCase()}×${(s.calls / requests).toFixed(2)} (${(s.usec / s.calls).toFixed(1)} µs)`);
    }
    return {
      rps: requests / result.duration,
      p50: result.p50,
      p99: result.p99,
      usec: usec / requests,
      commands: commands.sort().join(" "),
      requests,
    };
  } finally {
    await stopApp(app);
  }
}

// ---------------------------------------------------------------- report

const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const escapeXml = (s) => String(s).replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);

function report({ rows, redisVersion, seconds, image }) {
  const cpu = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) || [])[1] || "unknown CPU";
  const cr = rows.find((r) => r.key === "connect-redis");
  const sess = rows.find((r) => r.key === "sess");
  const mem = rows.find((r) => r.key === "memory");
  const value = cr && sess ? sess.rps / cr.rps : NaN;
  const lines = [];
  const p = (s = "") => lines.push(s);
  p(`Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${cpu.trim()}), Redis ${redisVersion}, Node.js ${process.version}, in ${Math.round(seconds)} s${QUICK ? " (--quick: one short round, figures not comparable)" : ""}.`);
  p();
  p(
    `One express ${version("express")} app with express-session ${version("express-session")} (resave false, saveUninitialized false, cookie maxAge one day); ` +
      `each request reads the session and adds one to a counter in it, so each request also saves it. ` +
      `${SESSIONS} sessions, one login request each, then autocannon ${version("autocannon")} with ${CONNECTIONS} connections for ${DURATION} s after a ${WARMUP} s warm-up, ` +
      `the ${SESSIONS} cookies round-robin, one per request; the app in a process of its own, a new one for each run; ` +
      `median of ${ROUNDS} alternated round${ROUNDS > 1 ? "s" : ""}${PINNED ? "; redis-server pinned to one core, the app and autocannon to the other" : ""}:`,
  );
  p();
  p("| store | requests/s | p50 latency, ms | p99 latency, ms | Redis server µs per request | Redis commands per request (µs per call) | requests/s vs connect-redis |");
  p("|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const usec = r.key === "memory" ? "—" : r.usec.toFixed(2);
    p(`| ${r.label} (${r.detail}) | ${fmt(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${usec} | ${r.commands || "—"} | ${cr ? ratio(r.rps, cr.rps) : "—"} |`);
  }
  p();
  const against = mem ? rows.filter((r) => r !== mem).map((r) => `${r.label} ${ratio(r.rps, mem.rps)}`) : [];
  p(`Requests/s of each round: ${rows.map((r) => `${r.label} ${r.rounds.map((x) => fmt(x.rps)).join(", ")}`).join("; ")}.${against.length ? ` Against MemoryStore: ${against.join(", ")}.` : ""}`);
  if (cr && sess) {
    p();
    p("| target | measured | |");
    p("|---|---|---|");
    p(`| SessStore ≥ ${TARGET}× connect-redis, requests/s | ${value.toFixed(2)}× | ${value >= TARGET ? "PASS" : "**MISS**"} |`);
  }
  p();
  p(`![requests/s and p99 latency of each store](${image})`);
  return { text: lines.join("\n"), pass: value >= TARGET, value, target: Boolean(cr && sess) };
}

// A hand-written bar chart: requests/s (higher is better) and p99 latency
// (lower is better), one bar per store.
function chart(rows, subtitle) {
  const width = 760;
  const labelWidth = 150;
  const barMax = 400;
  const barHeight = 22;
  const colors = { memory: "#9aa0a6", "connect-redis": "#c0392b", sess: "#1f6fb2" };
  const parts = [];
  let y = 28;
  parts.push(`<text x="20" y="${y}" font-size="17" font-weight="bold">Express end to end: session stores under autocannon</text>`);
  y += 20;
  parts.push(`<text x="20" y="${y}" font-size="12" fill="#555">${escapeXml(subtitle)}</text>`);
  y += 14;
  const cr = rows.find((r) => r.key === "connect-redis");
  const panel = (title, key, unit, digits) => {
    y += 26;
    parts.push(`<text x="20" y="${y}" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
    y += 10;
    const max = Math.max(...rows.map((r) => r[key])) || 1;
    for (const r of rows) {
      const w = Math.max(1, Math.round((r[key] / max) * barMax));
      parts.push(`<text x="${20 + labelWidth - 8}" y="${y + 15}" font-size="13" text-anchor="end">${escapeXml(r.label)}</text>`);
      parts.push(`<rect x="${20 + labelWidth}" y="${y}" width="${w}" height="${barHeight}" fill="${colors[r.key]}" rx="2"/>`);
      const shown = (digits === 0 ? Math.round(r[key]).toLocaleString("en-US") : r[key].toFixed(digits)) + unit;
      const versus = cr && r !== cr ? `  (${(r[key] / cr[key]).toFixed(2)}× connect-redis)` : "";
      parts.push(`<text x="${20 + labelWidth + w + 6}" y="${y + 15}" font-size="12">${escapeXml(shown + versus)}</text>`);
      y += barHeight + 6;
    }
  };
  panel("requests/s (higher is better)", "rps", "", 0);
  panel("p99 latency (lower is better)", "p99", " ms", 2);
  y += 14;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${y}" fill="#ffffff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const redis = await startRedis();
  try {
    const redisVersion = (await redis.client.info("server")).match(/redis_version:(\S+)/)[1];
    log(`Redis ${redisVersion} on port ${redis.port} with ${MODULE}`);
    log(`${ROUNDS} round(s) of ${DURATION} s per store, ${SESSIONS} sessions, ${CONNECTIONS} connections`);
    const runs = Object.fromEntries(STORES.map((s) => [s.key, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < STORES.length; k++) {
        const store = STORES[(k + round) % STORES.length];
        const r = await run(store, redis);
        runs[store.key].push(r);
        log(`  round ${round + 1} ${store.label}: ${fmt(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, Redis ${r.usec.toFixed(2)} µs/request (${r.commands || "no commands"})`);
      }
    }
    const rows = STORES.map((s) => {
      const list = runs[s.key];
      return {
        ...s,
        rounds: list,
        rps: median(list.map((r) => r.rps)),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
        usec: median(list.map((r) => r.usec)),
        commands: list[list.length - 1].commands,
      };
    });
    const seconds = (Date.now() - started) / 1000;
    const subtitle = `median of ${ROUNDS} round${ROUNDS > 1 ? "s" : ""}, ${CONNECTIONS} connections, ${SESSIONS} sessions, ${new Date().toISOString().slice(0, 10)}${QUICK ? " (--quick)" : ""}`;
    const svg = chart(rows, subtitle);
    const dir = path.join(ROOT, "bench", "results");
    fs.mkdirSync(dir, { recursive: true });
    const saved = report({ rows, redisVersion, seconds, image: "http.svg" });
    fs.writeFileSync(path.join(dir, "http.md"), `${saved.text}\n`);
    fs.writeFileSync(path.join(dir, "http.svg"), svg);
    if (argv.includes("--readme")) {
      if (ONLY) throw new Error("--readme needs all three stores (no --stores)");
      const docs = report({ rows, redisVersion, seconds, image: "bench-http.svg" });
      fs.writeFileSync(path.join(ROOT, "docs", "bench-http.svg"), svg);
      writeBenchmarksSection("bench-http", docs.text);
      log("(docs/benchmarks.md and docs/bench-http.svg updated)");
    }
    console.log(saved.text);
    if (saved.target) log(`\n${saved.pass ? "PASS" : "MISS"}: SessStore ${saved.value.toFixed(2)}× connect-redis requests/s (target ≥ ${TARGET}×)`);
    log("(saved to bench/results/http.md and bench/results/http.svg)");
  } finally {
    await redis.client.quit().catch(() => {});
    redis.child.kill();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
