// Shared by the benchmarks (bench.js, scale.js, import.js): a redis-server with the
// module on a free port, and direct population of the module's layout.
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { createClient } = require("redis");

const ROOT = path.resolve(__dirname, "..", "..");
const MODULE = process.env.SESS_MODULE || path.join(ROOT, "target", "release", "libredis_sessions.so");
const PREFIX = "BenchTokenBenchTokenBenchTokenBenchTokenBenchTokenBe"; // 52 chars + 12 digits = 64
const PINNED = process.env.SESS_BENCH_PINNED === "1";

// SESS_BENCH_PORTS=29000-29099 keeps every port a benchmark opens (its
// redis-servers, the HTTP bench's app) within that range, for a machine whose
// other ports belong to someone else; otherwise the system picks free ports.
const PORTS = (process.env.SESS_BENCH_PORTS || "").match(/^(\d+)-(\d+)$/);
let nextInRange = 0;

function listenable(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function freePort() {
  if (PORTS) {
    const [low, high] = [Number(PORTS[1]), Number(PORTS[2])];
    // Round the range, so that a port handed out but not yet bound (a
    // server still starting) is not handed out again by this process.
    for (let k = 0; k <= high - low; k++) {
      const port = low + ((nextInRange + k) % (high - low + 1));
      if (await listenable(port)) {
        nextInRange = port - low + 1;
        return port;
      }
    }
    throw new Error(`no free port in SESS_BENCH_PORTS=${process.env.SESS_BENCH_PORTS}`);
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

// `pinned: false` leaves the server on the driver's core (replicas of the
// measured server, so that they do not compete with it for core 0).
async function startRedis(extraArgs = [], { pinned = true } = {}) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sess-bench-"));
  // On two or more cores the server gets core 0 to itself and this driver,
  // redis-benchmark and Node run on core 1 (bench/run.sh pins them), so the
  // two sides do not steal each other's time slices.
  const pin = PINNED && pinned ? ["taskset", "-c", "0", "redis-server"] : [];
  const child = spawn(
    pin[0] || "redis-server",
    [...pin.slice(1), "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
      "--logfile", path.join(dir, "redis.log"), "--loadmodule", MODULE, ...extraArgs],
    { stdio: "ignore" },
  );
  // Never leave the server behind, whatever ends this process.
  process.on("exit", () => child.kill());
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => process.exit(1));
  for (let i = 0; !(await accepts(port)); i++) {
    if (i > 100) throw new Error(`redis-server did not start: ${fs.readFileSync(path.join(dir, "redis.log"), "utf8")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const client = createClient({ socket: { port, host: "127.0.0.1" } });
  await client.connect();
  return { port, dir, child, client };
}

// Writes sessions numbered first..first+count-1 straight into the module's
// layout (populate.lua); last activity spread over `spread` seconds before
// `now` (the server's clock unless given).
async function populate(client, app, count, users, withData, { first = 0, now = null, spread = 3600 } = {}) {
  const script = fs.readFileSync(path.join(__dirname, "..", "populate.lua"), "utf8");
  const at = now ?? Math.floor((await client.time()).getTime() / 1000);
  for (let from = first; from < first + count; from += 20000) {
    const to = Math.min(first + count, from + 20000) - 1;
    await client.eval(script, { arguments: [app, PREFIX, String(from), String(to), String(users), String(at), withData ? "1" : "0", String(spread)] });
  }
}

// Runs `action` while a second connection PINGs in a loop; returns the
// action's result, how long it took and the worst PING round trip.
// The probe PINGs from a worker thread with its own event loop, so that the
// main thread parsing a big reply (a listing of 100,000 sessions) is not
// taken for a stall of the server.
const PROBE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createClient } = require("redis");
(async () => {
  const probe = createClient({ socket: { port: workerData.port, host: "127.0.0.1" } });
  await probe.connect();
  let running = true;
  let worst = 0;
  let pings = 0;
  parentPort.on("message", () => { running = false; });
  parentPort.postMessage("started");
  while (running) {
    const t = process.hrtime.bigint();
    await probe.ping();
    worst = Math.max(worst, Number(process.hrtime.bigint() - t) / 1e6);
    pings++;
    await new Promise((r) => setImmediate(r));
  }
  await probe.quit();
  parentPort.postMessage({ worst, pings });
})();
`;

async function probed(port, action) {
  const { Worker } = require("node:worker_threads");
  const worker = new Worker(PROBE, { eval: true, workerData: { port } });
  const messages = [];
  let wake = () => {};
  worker.on("message", (m) => { messages.push(m); wake(); });
  const next = () => new Promise((r) => { if (messages.length) r(messages.shift()); else wake = () => r(messages.shift()); });
  await next(); // "started"
  await new Promise((r) => setTimeout(r, 50)); // the loop is running
  const started = process.hrtime.bigint();
  const result = await action();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await new Promise((r) => setTimeout(r, 50));
  worker.postMessage("stop");
  const { worst, pings } = await next();
  await worker.terminate();
  return { result, ms, worst, pings };
}

const token = (i) => PREFIX + String(i).padStart(12, "0");

// INFO commandstats as { name: { calls, usec } } (module commands as "sess.get").
async function commandStats(client) {
  const info = await client.info("commandstats");
  const stats = {};
  for (const line of info.split("\n")) {
    const m = line.match(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/);
    if (m) stats[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return stats;
}

// Writes `text` into docs/benchmarks.md between `<!-- name:start -->` and
// `<!-- name:end -->` (--readme), refusing a page without those markers.
function writeBenchmarksSection(name, text) {
  const page = path.join(ROOT, "docs", "benchmarks.md");
  const before = fs.readFileSync(page, "utf8");
  const marker = new RegExp(`(<!-- ${name}:start -->\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
  if (!marker.test(before)) throw new Error(`docs/benchmarks.md has no <!-- ${name}:start --> / <!-- ${name}:end --> markers`);
  fs.writeFileSync(page, before.replace(marker, (_, start, end) => `${start}${text}\n${end}`));
}

module.exports = { ROOT, MODULE, PREFIX, PINNED, freePort, startRedis, populate, probed, token, commandStats, writeBenchmarksSection };
