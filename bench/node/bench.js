// The benchmark behind `make bench`. One run, one machine, every figure next
// to its baseline measured in the same run, so ratios hold on a noisy box:
//
//   1. SESS.* against plain Redis commands of the same shape (redis-benchmark,
//      50 clients, pipeline 1 and 16);
//   2. server time per operation (INFO commandstats), SESS.* against the sum
//      of the commands the Node library sends for the same operation;
//   3. SESS.* against redis-sessions 4.0.0 through the same node-redis client,
//      50 operations in flight;
//   4. memory per session, 100,000 sessions, module layout against the Node
//      library's layout.
//
// Usage: node bench.js [--quick] [--readme]
//   --quick   smaller counts, for a smoke test
//   --readme  also write the report into docs/benchmarks.md (between the bench markers)

"use strict";

const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const RedisSessions = require("redis-sessions").default;
const { ROOT, MODULE, PREFIX, PINNED, startRedis, populate, token } = require("./common");

const QUICK = process.argv.includes("--quick");
const SCALE = QUICK ? 0.1 : 1;
const CLIENTS = 50;
const ROUNDS = 5;
const IN_FLIGHT = 50;

// ---------------------------------------------------------------- helpers

const n = (count) => Math.max(1000, Math.round(count * SCALE));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2));
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const log = (...args) => console.error(...args);

function redisBenchmark(port, { pipeline, requests, range }, command) {
  const out = execFileSync(
    "redis-benchmark",
    ["-h", "127.0.0.1", "-p", String(port), "-c", String(CLIENTS), "-P", String(pipeline),
      "-n", String(requests), "-r", String(range), "--csv", ...command],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  const line = out.trim().split("\n").pop();
  // The test name may hold commas and quotes (JSON data), so read the
  // seven numeric columns from the end of the line.
  const rps = Number(line.split(",").slice(-7)[0].replace(/"/g, ""));
  if (!(rps > 0)) throw new Error(`redis-benchmark gave no result for ${command.join(" ")}:\n${out}`);
  return rps;
}

async function commandStats(client) {
  const info = await client.info("commandstats");
  const stats = {};
  for (const line of info.split("\n")) {
    const m = line.match(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/);
    if (m) stats[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return stats;
}

// Runs `op(i)` for i in [0, count) with IN_FLIGHT operations outstanding.
async function drive(count, op) {
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await op(i);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

// ---------------------------------------------------------------- 1. vs plain Redis

async function versusPlainRedis(redis) {
  const { client, port } = redis;
  const users = 20000;
  const sessions = 100000;
  await populate(client, "bench", sessions, users, true);
  const probe = await client.sendCommand(["SESS.GET", "bench", token(42)]);
  if (!Array.isArray(probe) || probe[1] !== "user000000000042") throw new Error(`populated session not found: ${probe}`);
  const now = Math.floor(Date.now() / 1000);

  const pairs = [
    { name: "GET", module: ["SESS.GET", "bench", `${PREFIX}__rand_int__`], base: ["HGETALL", `rs:{bench}:${PREFIX}__rand_int__`], range: sessions },
    { name: "PEEK", module: ["SESS.PEEK", "bench", `${PREFIX}__rand_int__`], base: ["HGETALL", `rs:{bench}:${PREFIX}__rand_int__`], range: sessions },
    { name: "SET", module: ["SESS.SET", "bench", `${PREFIX}__rand_int__`, '{"cart":"__rand_int__"}'], base: ["HSET", `rs:{bench}:${PREFIX}__rand_int__`, "d", '{"cart":"__rand_int__","theme":"dark"}'], range: sessions },
    { name: "CREATE", module: ["SESS.CREATE", "fresh", "user__rand_int__", "10.0.0.1", "DATA", '{"cart":1,"theme":"dark"}'], base: ["HSET", `rs:{plain}:${PREFIX}__rand_int__`, "id", "user", "r", "1", "w", "1", "ip", "10.0.0.1", "la", String(now), "ttl", "7200", "d", '{"cart":1,"theme":"dark"}'], range: users, reset: ["fresh", "plain"] },
    { name: "ACTIVITY", module: ["SESS.ACTIVITY", "bench", "600"], base: ["ZCOUNT", "rs:{bench}:_users", String(now - 599), "+inf"], range: 1 },
    { name: "SOID", module: ["SESS.SOID", "bench", "user__rand_int__"], base: ["HGETALL", `rs:{bench}:${PREFIX}__rand_int__`], range: users, note: "SOID returns the user's 5 sessions; the baseline reads one" },
    // Last: their pools replace the data set.
    { name: "ROTATE", module: ["SESS.ROTATE", "doomed", `${PREFIX}__rand_int__`], base: ["COPY", `rs:{doomedplain}:${PREFIX}__rand_int__`, `rs:{doomedplain}:r${PREFIX}__rand_int__`], range: 0, pools: true, note: "ROTATE's baseline is COPY of the hash to a new name; a client-side rotation needs five commands" },
    { name: "KILL", module: ["SESS.KILL", "doomed", `${PREFIX}__rand_int__`], base: ["DEL", `rs:{doomedplain}:${PREFIX}__rand_int__`], range: 0, pools: true },
  ];
  const rows = [];
  const moduleUsec = {};
  for (const pair of pairs) {
    const row = { name: pair.name, module: pair.module[0], base: pair.base[0], note: pair.note };
    for (const pipeline of [1, 16]) {
      const requests = n(pair.pools ? 40000 : pipeline === 1 ? 50000 : 200000);
      const mod = [];
      const base = [];
      for (let round = 0; round < ROUNDS; round++) {
        let range = pair.range;
        if (pair.pools) {
          // Sessions created for the purpose, twice as many as requests: about
          // 80% of the random kills hit a live session, on both sides alike.
          range = requests * 2;
          await client.flushAll();
          await populate(client, "doomed", range, Math.ceil(range / 5), true);
          await populate(client, "doomedplain", range, Math.ceil(range / 5), true);
        }
        for (const app of pair.reset || []) await client.sendCommand(["SESS.KILLALL", app]);
        await client.sendCommand(["CONFIG", "RESETSTAT"]);
        mod.push(redisBenchmark(port, { pipeline, requests, range }, pair.module));
        const stats = await commandStats(client);
        const s = stats[pair.module[0].toLowerCase()];
        (moduleUsec[pair.module[0]] ||= []).push(s.usec / s.calls);
        base.push(redisBenchmark(port, { pipeline, requests, range }, pair.base));
      }
      row[`p${pipeline}`] = { module: median(mod), base: median(base) };
      log(`  ${pair.name} pipeline ${pipeline}: module ${fmt(median(mod))}/s, ${pair.base[0]} ${fmt(median(base))}/s`);
    }
    rows.push(row);
  }
  for (const k of Object.keys(moduleUsec)) moduleUsec[k] = median(moduleUsec[k]);
  return { rows, moduleUsec };
}

// ---------------------------------------------------------------- 2+3. vs the Node library

// Commands the Node library sends inside MULTI; EXEC's time already includes
// them, so they are left out of the sum to avoid counting them twice.
const NESTED = new Set(["zadd", "hincrby", "hset", "srem", "zrem", "del", "exists", "sadd", "hdel", "publish"]);

async function serverUsecPerOp(client, ops, run) {
  await client.sendCommand(["CONFIG", "RESETSTAT"]);
  await run();
  const stats = await commandStats(client);
  let usec = 0;
  const commands = [];
  for (const [name, s] of Object.entries(stats)) {
    if (name.startsWith("config") || name === "info" || NESTED.has(name)) continue;
    usec += s.usec;
    commands.push(`${name}×${(s.calls / ops).toFixed(1)}`);
  }
  return { usec: usec / ops, commands: commands.join(" ") };
}

async function versusNodeLibrary(redis) {
  const { client, port } = redis;
  await client.flushAll();
  const rs = new RedisSessions({ port, host: "127.0.0.1", wipe: 0 });
  await rs.ping(); // connects the library's client
  const same = rs.redis; // the one node-redis client both sides use
  const send = (args) => same.sendCommand(args);

  const users = n(4000);
  const creates = users * 5;
  const data = (i) => ({ cart: i, theme: "dark" });
  const libTokens = [];
  const modTokens = [];
  const results = {};
  const measure = async (name, count, lib, mod) => {
    // Alternate the two sides and keep the better of two tries each, so a
    // burst of noise on the box does not decide the ratio.
    const libRates = [];
    const modRates = [];
    for (let round = 0; round < 2; round++) {
      libRates.push(await drive(count, (i) => lib(i, round)));
      modRates.push(await drive(count, (i) => mod(i, round)));
    }
    results[name] = { lib: Math.max(...libRates), mod: Math.max(...modRates) };
    log(`  ${name}: redis-sessions ${fmt(results[name].lib)}/s, SESS.* ${fmt(results[name].mod)}/s`);
  };

  await measure(
    "create",
    creates,
    async (i, round) => {
      const { token } = await rs.create({ app: `lib${round}`, id: `user${i % users}`, ip: "10.0.0.1", ttl: 7200, d: data(i) });
      if (round === 1) libTokens[i] = token;
    },
    async (i, round) => {
      const token = await send(["SESS.CREATE", `mod${round}`, `user${i % users}`, "10.0.0.1", "TTL", "7200", "DATA", JSON.stringify(data(i))]);
      if (round === 1) modTokens[i] = token;
    },
  );
  const pick = (i) => (i * 7919) % creates; // spread over all sessions
  await measure("get", n(40000), (i) => rs.get({ app: "lib1", token: libTokens[pick(i)] }), (i) => send(["SESS.GET", "mod1", modTokens[pick(i)]]));
  await measure("set", n(20000),
    (i) => rs.set({ app: "lib1", token: libTokens[pick(i)], d: { cart: i } }),
    (i) => send(["SESS.SET", "mod1", modTokens[pick(i)], JSON.stringify({ cart: i })]));
  await measure("soid", n(10000), (i) => rs.soid({ app: "lib1", id: `user${i % users}` }), (i) => send(["SESS.SOID", "mod1", `user${i % users}`]));
  await measure("activity", n(20000), () => rs.activity({ app: "lib1", deltaTime: 600 }), () => send(["SESS.ACTIVITY", "mod1", "600"]));
  // Each kill needs a live session of its own: the two rounds kill disjoint halves.
  const half = Math.floor(creates / 2);
  await measure("kill", half, (i, round) => rs.kill({ app: "lib1", token: libTokens[round * half + i] }), (i, round) => send(["SESS.KILL", "mod1", modTokens[round * half + i]]));

  // Server time per operation. Each side gets its own sessions, one per
  // user, last active more than two seconds ago, so that every read and
  // write must refresh the user's activity: the module's most expensive
  // case, and the usual one (a user rarely reads twice in one second). The
  // wait also makes the Node library rewrite "la", as it does when idle > 1.
  const usec = {};
  const ops = n(10000);
  const settle = () => new Promise((r) => setTimeout(r, 2100));
  const sessions = async (libApp, modApp, users) => {
    const lib = [];
    const mod = [];
    for (let i = 0; i < ops; i++) {
      lib.push((await rs.create({ app: libApp, id: `u${i % users}`, ip: "10.0.0.1", d: data(i) })).token);
      mod.push(await send(["SESS.CREATE", modApp, `u${i % users}`, "10.0.0.1", "DATA", JSON.stringify(data(i))]));
    }
    await settle();
    return { lib, mod };
  };
  const one = await sessions("libu", "modu", ops);
  usec.get = {
    lib: await serverUsecPerOp(same, ops, () => drive(ops, (i) => rs.get({ app: "libu", token: one.lib[i] }))),
    mod: await serverUsecPerOp(same, ops, () => drive(ops, (i) => send(["SESS.GET", "modu", one.mod[i]]))),
  };
  await settle();
  usec.set = {
    lib: await serverUsecPerOp(same, ops, () => drive(ops, (i) => rs.set({ app: "libu", token: one.lib[i], d: { cart: i } }))),
    mod: await serverUsecPerOp(same, ops, () => drive(ops, (i) => send(["SESS.SET", "modu", one.mod[i], JSON.stringify({ cart: i })]))),
  };
  usec.create = {
    lib: await serverUsecPerOp(same, ops, () => drive(ops, (i) => rs.create({ app: "libc", id: `u${i}`, ip: "10.0.0.1", d: data(i) }))),
    mod: await serverUsecPerOp(same, ops, () => drive(ops, (i) => send(["SESS.CREATE", "modc", `u${i}`, "10.0.0.1", "DATA", JSON.stringify(data(i))]))),
  };
  usec.kill = {
    lib: await serverUsecPerOp(same, ops, () => drive(ops, (i) => rs.kill({ app: "libu", token: one.lib[i] }))),
    mod: await serverUsecPerOp(same, ops, () => drive(ops, (i) => send(["SESS.KILL", "modu", one.mod[i]]))),
  };
  // For comparison: users with five sessions each, all read within a
  // second, so that only a user's first read refreshes the activity.
  const five = await sessions("lib5", "mod5", Math.ceil(ops / 5));
  usec["get (5 sessions per user read together)"] = {
    lib: await serverUsecPerOp(same, ops, () => drive(ops, (i) => rs.get({ app: "lib5", token: five.lib[i] }))),
    mod: await serverUsecPerOp(same, ops, () => drive(ops, (i) => send(["SESS.GET", "mod5", five.mod[i]]))),
  };
  for (const [op, u] of Object.entries(usec)) log(`  server time per ${op}: redis-sessions ${u.lib.usec.toFixed(2)} µs (${u.lib.commands}), SESS.* ${u.mod.usec.toFixed(2)} µs`);
  await rs.quit();
  return { results, usec };
}

// ---------------------------------------------------------------- 4. memory

async function usedMemory(client) {
  await client.sendCommand(["MEMORY", "PURGE"]);
  const info = await client.info("memory");
  return Number(info.match(/used_memory:(\d+)/)[1]);
}

async function memoryPerSession(redis) {
  const { client, port } = redis;
  const users = 20000;
  const sessions = users * 5;
  const measure = async (create) => {
    await client.flushAll();
    const before = await usedMemory(client);
    await drive(sessions, create);
    return ((await usedMemory(client)) - before) / sessions;
  };
  const mod = await measure((i) => client.sendCommand(["SESS.CREATE", "memapp", `user${i % users}`, "10.0.0.1", "DATA", JSON.stringify({ cart: i, theme: "dark" })]));
  const rs = new RedisSessions({ port, host: "127.0.0.1", wipe: 0 });
  await rs.ping();
  const lib = await measure((i) => rs.create({ app: "memapp", id: `user${i % users}`, ip: "10.0.0.1", d: { cart: i, theme: "dark" } }));
  await rs.quit();
  log(`  memory per session: SESS.* ${Math.round(mod)} B, redis-sessions ${Math.round(lib)} B`);
  return { mod, lib, sessions, users };
}

// ---------------------------------------------------------------- report

function report({ plain, node, memory, redisVersion, seconds }) {
  const cpu = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) || [])[1] || "unknown CPU";
  const lines = [];
  const p = (s = "") => lines.push(s);
  const check = (ok) => (ok ? "met" : "**missed**");
  const g = plain.rows.find((r) => r.name === "GET");
  const targets = [
    [`SESS.GET ≥ 0.8× HGETALL, pipeline 1`, g.p1.module / g.p1.base, 0.8],
    [`SESS.GET ≥ 0.35× HGETALL, pipeline 16`, g.p16.module / g.p16.base, 0.35],
    ...["get", "set", "kill"].map((op) => [`${op}: ≥ 2× redis-sessions through node-redis`, node.results[op].mod / node.results[op].lib, 2]),
    [`create: ≥ 1.2× redis-sessions through node-redis`, node.results.create.mod / node.results.create.lib, 1.2],
  ];
  const usecRatio = node.usec.get.mod.usec / node.usec.get.lib.usec;
  const memRatio = memory.mod / memory.lib;

  p(`Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${cpu.trim()}), Redis ${redisVersion}, Node.js ${process.version}, in ${Math.round(seconds)} s${QUICK ? " (--quick: reduced counts)" : ""}.`);
  p();
  p(`**SESS.* against plain Redis** (redis-benchmark, ${CLIENTS} clients, median of ${ROUNDS} alternating runs${PINNED ? ", server and client pinned to separate cores" : ""}; 100,000 sessions of 20,000 users):`);
  p();
  p("| operation | SESS.* command | baseline | pipeline 1: module / baseline ops/s | ratio | pipeline 16: module / baseline ops/s | ratio |");
  p("|---|---|---|---|---|---|---|");
  for (const r of plain.rows) {
    p(`| ${r.name} | ${r.module} | ${r.base} | ${fmt(r.p1.module)} / ${fmt(r.p1.base)} | ${ratio(r.p1.module, r.p1.base)} | ${fmt(r.p16.module)} / ${fmt(r.p16.base)} | ${ratio(r.p16.module, r.p16.base)} |`);
  }
  for (const r of plain.rows.filter((r) => r.note)) p(`\n${r.name}: ${r.note}.`);
  p();
  p("**Server time per operation** (`usec_per_call` from INFO commandstats; for redis-sessions the sum over the commands it sends for one operation, MULTI/EXEC included once; one session per user, last active over 2 s before, unless noted):");
  p();
  p("| operation | SESS.* µs | redis-sessions µs | ratio | commands redis-sessions sent per operation |");
  p("|---|---|---|---|---|");
  for (const [op, u] of Object.entries(node.usec)) {
    p(`| ${op} | ${u.mod.usec.toFixed(2)} | ${u.lib.usec.toFixed(2)} | ${ratio(u.mod.usec, u.lib.usec)} | ${u.lib.commands} |`);
  }
  p();
  p(`Module commands under redis-benchmark load: ${Object.entries(plain.moduleUsec).map(([k, v]) => `${k} ${v.toFixed(2)} µs`).join(", ")}.`);
  p();
  p(`**SESS.* against redis-sessions 4.0.0**, both through one node-redis client, ${IN_FLIGHT} operations in flight (best of 2 alternating runs):`);
  p();
  p("| operation | redis-sessions ops/s | SESS.* ops/s | ratio |");
  p("|---|---|---|---|");
  for (const [op, r] of Object.entries(node.results)) p(`| ${op} | ${fmt(r.lib)} | ${fmt(r.mod)} | ${ratio(r.mod, r.lib)} |`);
  p();
  p(`**Memory** (\`used_memory\` growth per session, ${memory.sessions.toLocaleString("en-US")} sessions of ${memory.users.toLocaleString("en-US")} users, data \`{"cart":N,"theme":"dark"}\`): SESS.* ${Math.round(memory.mod)} bytes, redis-sessions ${Math.round(memory.lib)} bytes, ratio ${ratio(memory.mod, memory.lib)}.`);
  p();
  p("**Targets**");
  p();
  p("| target | measured | |");
  p("|---|---|---|");
  for (const [label, value, min] of targets) p(`| ${label} | ${value.toFixed(2)}× | ${check(value >= min)} |`);
  p(`| SESS.GET server time ≤ 0.5× redis-sessions' get (each read refreshing activity) | ${usecRatio.toFixed(2)}× | ${check(usecRatio <= 0.5)} |`);
  p(`| memory per session ≤ 0.75× redis-sessions | ${memRatio.toFixed(2)}× | ${check(memRatio <= 0.75)} |`);
  return lines.join("\n");
}

async function main() {
  const started = Date.now();
  const redis = await startRedis();
  try {
    const redisVersion = (await redis.client.info("server")).match(/redis_version:(\S+)/)[1];
    log(`Redis ${redisVersion} on port ${redis.port} with ${MODULE}`);
    log("1/3 SESS.* against plain Redis commands");
    const plain = await versusPlainRedis(redis);
    log("2/3 SESS.* against redis-sessions 4.0.0");
    const node = await versusNodeLibrary(redis);
    log("3/3 memory per session");
    const memory = await memoryPerSession(redis);
    const text = report({ plain, node, memory, redisVersion, seconds: (Date.now() - started) / 1000 });
    const dir = path.join(ROOT, "bench", "results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "latest.md"), `${text}\n`);
    if (process.argv.includes("--readme")) {
      const readme = path.join(ROOT, "docs", "benchmarks.md");
      const updated = fs
        .readFileSync(readme, "utf8")
        .replace(/(<!-- bench:start -->\n)[\s\S]*(<!-- bench:end -->)/, `$1${text}\n$2`);
      fs.writeFileSync(readme, updated);
      log("(docs/benchmarks.md updated)");
    }
    console.log(text);
    log(`\n(saved to bench/results/latest.md)`);
  } finally {
    await redis.client.quit().catch(() => {});
    redis.child.kill();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
