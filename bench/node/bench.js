// The benchmark behind `make bench`. One run, one machine, every figure next
// to its baseline measured in the same run, so ratios hold on a noisy box:
//
//   1. SESS.* against plain Redis commands of the same shape (redis-benchmark,
//      50 clients, pipeline 1 and 16);
//   2. server time per operation (INFO commandstats), SESS.* against the sum
//      of the commands the Node library sends for the same operation;
//   3. SESS.* against redis-sessions 4.0.0 through the same node-redis client,
//      50 operations in flight;
//   4. SESS.* against the connect-redis pattern (a JSON blob under
//      sess:<id>), read, write and create through one node-redis client, 50
//      commands in flight, with the compact JSON reply and without;
//   5. memory per session, 100,000 sessions, module layout against the Node
//      library's layout.
//
// Usage: node bench.js [--quick] [--readme]
//   --quick   smaller counts, for a smoke test
//   --readme  also write the report into docs/benchmarks.md (between the bench markers)

"use strict";

const { execFileSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const RedisSessions = require("redis-sessions").default;
const { ROOT, MODULE, PREFIX, PINNED, startRedis, populate, token, commandStats, writeBenchmarksSection } = require("./common");

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

// ---------------------------------------------------------------- 4. vs the connect-redis pattern

// What connect-redis does with an express-session: the whole session as one
// JSON text under sess:<id> (GET, then JSON.parse; SET ... EX on every save),
// against the module's session, through the same node-redis client. The
// module's data is the session as sess-express-store keeps it: each
// top-level key's JSON text as one flat value.
const CR_APP = "crbench";
const CR_ROUNDS = 3;

// A typical express-session session: the cookie and a few fields (about 200
// bytes of JSON).
function expressSession(i) {
  return {
    cookie: { originalMaxAge: 86400000, expires: new Date(Date.now() + 86400000).toISOString(), secure: false, httpOnly: true, path: "/" },
    userId: `user${String(i).padStart(6, "0")}`,
    name: "Ada Lovelace",
    role: "editor",
    views: i % 100,
  };
}
const moduleData = (session) => JSON.stringify(Object.fromEntries(Object.entries(session).map(([k, v]) => [k, JSON.stringify(v)])));
// express-session's ids: uid-safe of 24 bytes, 32 characters.
const sessionId = () => crypto.randomBytes(24).toString("base64url");
// Tokens a caller chooses (SESS.CREATE ... TOKEN): 64 characters of [A-Za-z0-9].
const callerToken = () => crypto.randomBytes(48).toString("base64").replace(/[^A-Za-z0-9]/g, "0").slice(0, 64);

// The Node client's reading of a map reply (clients/node: sessionObject).
function sessionObject(reply) {
  if (reply === null || reply === undefined) return null;
  const fields = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = reply[i + 1];
  const session = { id: String(fields.id), r: Number(fields.r), w: Number(fields.w), ttl: Number(fields.ttl), idle: Number(fields.idle), ip: String(fields.ip) };
  if (fields.no_resave !== undefined) session.no_resave = true;
  if (fields.d !== undefined) session.d = JSON.parse(String(fields.d));
  return session;
}

const mustBe = (what, value) => {
  if (value === null || value === undefined) throw new Error(`connect-redis pattern: ${what} found nothing`);
  return value;
};

// Every variant of a group runs once untimed (round CR_ROUNDS: the JIT warms
// up), then once per round, the order rotating from round to round; client
// ops/s and server µs per call (INFO commandstats of the variant's command,
// reset before each run) are the medians over the rounds.
async function alternate(client, count, variants) {
  const rates = variants.map(() => []);
  const usec = variants.map(() => []);
  for (const variant of variants) await drive(Math.min(count, 2000), (i) => variant.op(i, CR_ROUNDS));
  for (let round = 0; round < CR_ROUNDS; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = (k + round) % variants.length;
      await client.sendCommand(["CONFIG", "RESETSTAT"]);
      rates[v].push(await drive(count, (i) => variants[v].op(i, round)));
      const s = (await commandStats(client))[variants[v].stat];
      usec[v].push(s && s.calls ? s.usec / s.calls : NaN);
    }
  }
  return variants.map((v, k) => ({ label: v.label, command: v.command, baseline: Boolean(v.baseline), ops: median(rates[k]), usec: median(usec[k]), rates: rates[k] }));
}

async function versusConnectRedis(redis) {
  const { client } = redis;
  await client.flushAll();
  const count = n(10000); // sessions on each side, one per user
  const sessions = Array.from({ length: count }, (_, i) => expressSession(i));
  const sids = sessions.map(() => sessionId());
  const tokens = [];
  await drive(count, (i) => client.set(`sess:${sids[i]}`, JSON.stringify(sessions[i]), { EX: 86400 }));
  await drive(count, async (i) => {
    tokens[i] = await client.sendCommand(["SESS.CREATE", CR_APP, sessions[i].userId, "10.0.0.1", "TTL", "86400", "DATA", moduleData(sessions[i])]);
  });
  const sizes = { blob: Buffer.byteLength(JSON.stringify(sessions[0])), data: Buffer.byteLength(moduleData(sessions[0])) };
  // The module's hash of a session, for HGETALL (its key layout: rs:{app}:token).
  const hashKey = (t) => `rs:{${CR_APP}}:${t}`;
  const compact = await client.sendCommand(["SESS.GET", CR_APP, tokens[0], "JSON"]);
  if (typeof compact !== "string" || JSON.parse(compact).id !== sessions[0].userId) throw new Error(`SESS.GET ... JSON did not reply one JSON text: ${compact}`);
  if ((await client.sendCommand(["HGETALL", hashKey(tokens[0])])).length === 0) throw new Error(`no hash at ${hashKey(tokens[0])}`);
  const pick = (i) => (i * 7919) % count; // spread over all sessions

  const results = {};
  log("  get");
  results.get = await alternate(client, n(40000), [
    { label: "connect-redis pattern", command: "GET sess:<id>, JSON.parse", stat: "get", baseline: true, op: async (i) => JSON.parse(mustBe("GET", await client.get(`sess:${sids[pick(i)]}`))) },
    { label: "SESS.GET, map reply", command: "SESS.GET app token, read to an object", stat: "sess.get", op: async (i) => mustBe("SESS.GET", sessionObject(await client.sendCommand(["SESS.GET", CR_APP, tokens[pick(i)]]))) },
    { label: "SESS.GET ... JSON", command: "SESS.GET app token JSON, JSON.parse", stat: "sess.get", op: async (i) => JSON.parse(mustBe("SESS.GET JSON", await client.sendCommand(["SESS.GET", CR_APP, tokens[pick(i)], "JSON"]))) },
    { label: "HGETALL of the session's hash", command: "HGETALL rs:{app}:token (server-time baseline)", stat: "hgetall", op: (i) => client.sendCommand(["HGETALL", hashKey(tokens[pick(i)])]) },
  ]);

  log("  set");
  const writes = n(20000);
  const blobs = Array.from({ length: writes }, (_, i) => JSON.stringify({ ...sessions[pick(i)], views: i }));
  const changes = Array.from({ length: writes }, (_, i) => JSON.stringify({ k: `v${i}` }));
  results.set = await alternate(client, writes, [
    { label: "connect-redis pattern", command: "SET sess:<id> <json> EX 86400", stat: "set", baseline: true, op: (i) => client.set(`sess:${sids[pick(i)]}`, blobs[i], { EX: 86400 }) },
    { label: "SESS.SET, map reply", command: "SESS.SET app token {\"k\":\"v\"}, read to an object", stat: "sess.set", op: async (i) => mustBe("SESS.SET", sessionObject(await client.sendCommand(["SESS.SET", CR_APP, tokens[pick(i)], changes[i]]))) },
    { label: "SESS.SET ... JSON", command: "SESS.SET app token {\"k\":\"v\"} JSON, JSON.parse", stat: "sess.set", op: async (i) => JSON.parse(mustBe("SESS.SET JSON", await client.sendCommand(["SESS.SET", CR_APP, tokens[pick(i)], changes[i], "JSON"]))) },
  ]);

  log("  create");
  // Each round (and the warm-up) creates sessions of its own: new ids, new
  // tokens, a fresh app.
  const creates = n(20000);
  const fresh = Array.from({ length: creates }, (_, i) => expressSession(count + i));
  const freshBlobs = fresh.map((s) => JSON.stringify(s));
  const freshData = fresh.map((s) => moduleData(s));
  const newIds = Array.from({ length: CR_ROUNDS + 1 }, () => Array.from({ length: creates }, sessionId));
  const newTokens = Array.from({ length: CR_ROUNDS + 1 }, () => Array.from({ length: creates }, callerToken));
  results.create = await alternate(client, creates, [
    { label: "connect-redis pattern", command: "SET sess:<new id> <json> EX 86400", stat: "set", baseline: true, op: (i, round) => client.set(`sess:${newIds[round][i]}`, freshBlobs[i], { EX: 86400 }) },
    { label: "SESS.CREATE", command: "SESS.CREATE app id ip TTL 86400 DATA <json>", stat: "sess.create", op: (i, round) => client.sendCommand(["SESS.CREATE", `crc${round}`, fresh[i].userId, "10.0.0.1", "TTL", "86400", "DATA", freshData[i]]) },
    { label: "SESS.CREATE ... TOKEN", command: "SESS.CREATE app id ip TTL 86400 DATA <json> TOKEN <token>", stat: "sess.create", op: (i, round) => client.sendCommand(["SESS.CREATE", `crt${round}`, fresh[i].userId, "10.0.0.1", "TTL", "86400", "DATA", freshData[i], "TOKEN", newTokens[round][i]]) },
  ]);

  for (const [op, rows] of Object.entries(results)) {
    const base = rows.find((r) => r.baseline);
    for (const r of rows) log(`  ${op}: ${r.label} ${fmt(r.ops)}/s (${ratio(r.ops, base.ops)}), server ${r.usec.toFixed(2)} µs per call`);
  }
  const row = (op, label) => results[op].find((r) => r.label === label);
  const versus = (op, label) => row(op, label).ops / results[op].find((r) => r.baseline).ops;
  const targets = [
    ["get: SESS.GET ... JSON ≥ 0.9× GET sess:<id> (client ops/s)", versus("get", "SESS.GET ... JSON"), (x) => x >= 0.9],
    ["set: SESS.SET ... JSON ≥ 0.8× SET sess:<id> ... EX (client ops/s)", versus("set", "SESS.SET ... JSON"), (x) => x >= 0.8],
    ["create: SESS.CREATE ≥ 0.7× SET of a new id (client ops/s)", versus("create", "SESS.CREATE"), (x) => x >= 0.7],
    ["create: SESS.CREATE ... TOKEN ≥ 0.7× SET of a new id (client ops/s)", versus("create", "SESS.CREATE ... TOKEN"), (x) => x >= 0.7],
    ["SESS.GET server time ≤ 2.2× HGETALL of the same session hash", row("get", "SESS.GET, map reply").usec / row("get", "HGETALL of the session's hash").usec, (x) => x <= 2.2],
  ].map(([label, value, ok]) => ({ label, value, pass: ok(value) }));
  for (const t of targets) log(`  ${t.pass ? "PASS" : "MISS"} ${t.label}: ${t.value.toFixed(2)}×`);
  return { results, targets, sessions: count, sizes };
}

// ---------------------------------------------------------------- 5. memory

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

function report({ plain, node, pattern, memory, redisVersion, seconds }) {
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
  p(`**SESS.* against the connect-redis pattern**, both through one node-redis client, ${IN_FLIGHT} commands in flight, median of ${CR_ROUNDS} alternating rounds (server µs per call from INFO commandstats, reset before each run); ${pattern.sessions.toLocaleString("en-US")} sessions on each side, one per user: an express-session session (cookie and four fields) as ${pattern.sizes.blob} bytes of JSON under \`sess:<id>\`, and as the module's data the way sess-express-store keeps it (${pattern.sizes.data} bytes); replies read as the Node client would:`);
  p();
  p("| operation | command | client ops/s | ratio to the connect-redis pattern | server µs per call |");
  p("|---|---|---|---|---|");
  for (const [op, rows] of Object.entries(pattern.results)) {
    const base = rows.find((r) => r.baseline);
    for (const r of rows) p(`| ${op} | ${r.command.replace(/[<>|]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "|": "\\|" })[c])} | ${fmt(r.ops)} | ${ratio(r.ops, base.ops)} | ${r.usec.toFixed(2)} |`);
  }
  p();
  p("| target (connect-redis pattern) | measured | |");
  p("|---|---|---|");
  for (const t of pattern.targets) p(`| ${t.label.replace(/[<>]/g, (c) => (c === "<" ? "&lt;" : "&gt;"))} | ${t.value.toFixed(2)}× | ${t.pass ? "PASS" : "**MISS**"} |`);
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
    log("1/4 SESS.* against plain Redis commands");
    const plain = await versusPlainRedis(redis);
    log("2/4 SESS.* against redis-sessions 4.0.0");
    const node = await versusNodeLibrary(redis);
    log("3/4 SESS.* against the connect-redis pattern");
    const pattern = await versusConnectRedis(redis);
    log("4/4 memory per session");
    const memory = await memoryPerSession(redis);
    const text = report({ plain, node, pattern, memory, redisVersion, seconds: (Date.now() - started) / 1000 });
    const dir = path.join(ROOT, "bench", "results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "latest.md"), `${text}\n`);
    if (process.argv.includes("--readme")) {
      writeBenchmarksSection("bench", text);
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
