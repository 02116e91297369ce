// make bench-scale: one app of 1,000,000 sessions (200,000 users, plus one
// user with 100,000 sessions), and for each heavy operation the worst round
// trip a concurrent client saw (a PING loop on its own connection) while
// the operation ran. The bar is 50 ms. Also memory per session at 1M and
// the SESS.CREATE rate. Prints a Markdown report and saves it to
// bench/results/scale.md.
//
// Usage: node scale.js [--quick]   (--quick: 100,000 sessions)
"use strict";

const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { createClient } = require("redis");
const { ROOT, populate, probed, startRedis } = require("./common");

const QUICK = process.argv.includes("--quick");
const SESSIONS = QUICK ? 100000 : 1000000;
const USERS = SESSIONS / 5;
const WHALE = SESSIONS / 10; // sessions of the one big user
const BAR_MS = 50;
const log = (...args) => console.error(...args);
const fmt = (x) => Math.round(x).toLocaleString("en-US");

// Runs one command under the probe; also reports the server's own time for
// it (INFO commandstats), apart from the client's round trip.
async function probedCommand(client, port, args) {
  const name = args[0].toLowerCase();
  const usec = async () => {
    const m = (await client.info("commandstats")).match(new RegExp(`cmdstat_${name.replace(".", "\\.")}:calls=\\d+,usec=(\\d+)`));
    return m ? Number(m[1]) : 0;
  };
  const before = await usec();
  const out = await probed(port, () => client.sendCommand(args));
  out.serverMs = (await usec() - before) / 1000;
  out.result = Array.isArray(out.result) ? out.result.length : out.result;
  return out;
}

async function usedMemory(client) {
  const info = await client.info("memory");
  return Number(info.match(/used_memory:(\d+)/)[1]);
}

async function infoField(client, section, name) {
  const info = await client.info(section);
  const m = info.match(new RegExp(`${name}:(\\S+)`));
  return m ? m[1] : null;
}

async function main() {
  const started = Date.now();
  const redis = await startRedis();
  const { client, port } = redis;
  const rows = [];
  const row = (operation, { ms, worst, result, serverMs }, note) => {
    rows.push({ operation, ms, worst, serverMs, result, note: note ?? "" });
    log(`${operation}: ${ms.toFixed(1)} ms, worst probe ${worst.toFixed(1)} ms, reply ${JSON.stringify(result).slice(0, 60)}`);
  };

  // Memory per session and the populate rate.
  const before = await usedMemory(client);
  let t = Date.now();
  await populate(client, "big", SESSIONS, USERS, true);
  const populateRate = SESSIONS / ((Date.now() - t) / 1000);
  const perSession = (await usedMemory(client) - before) / SESSIONS;

  // SESS.CREATE rate, by redis-benchmark (50 clients, no pipeline).
  const creates = QUICK ? 20000 : 100000;
  const out = execFileSync("redis-benchmark", ["-h", "127.0.0.1", "-p", String(port), "-c", "50", "-n", String(creates),
    "-r", "1000000", "--csv", "SESS.CREATE", "fresh", "user__rand_int__", "10.0.0.1"], { encoding: "utf8" });
  const createRate = Number(out.trim().split("\n").pop().split(",").slice(-7)[0].replace(/"/g, ""));

  row("SESS.SOAPP big 3600 LIMIT 100", await probedCommand(client, port, ["SESS.SOAPP", "big", "3600", "LIMIT", "100"]));
  row("SESS.SOID of a user with 5 sessions", await probedCommand(client, port, ["SESS.SOID", "big", "user000000000001"]));
  // One user with WHALE sessions more (tokens after the app's).
  const whale = "user000000000000";
  await populate(client, "big", WHALE, 1, true, { first: SESSIONS, spread: 1 });
  log(`populated ${fmt(SESSIONS)} + ${fmt(WHALE)} sessions, ${perSession.toFixed(0)} B/session`);
  // The whale is the most recently active user: every listing meets it
  // first. Listings that take longer than a step go on in steps, the
  // client waiting; the server time is then that of the first step.
  const stepped = "in steps";
  row(`SESS.SOID LIMIT 100 of the user with ${fmt(WHALE)} sessions`, await probedCommand(client, port, ["SESS.SOID", "big", whale, "LIMIT", "100"]), stepped);
  row(`SESS.SOID of the user with ${fmt(WHALE)} sessions (no LIMIT)`, await probedCommand(client, port, ["SESS.SOID", "big", whale]), stepped);
  row("SESS.SOAPP big 3600 LIMIT 100, the whale first", await probedCommand(client, port, ["SESS.SOAPP", "big", "3600", "LIMIT", "100"]), stepped);
  row("SESS.SOAPP big 3600 LIMIT 10000, the whale first", await probedCommand(client, port, ["SESS.SOAPP", "big", "3600", "LIMIT", "10000"]), stepped);
  row("SESS.SOAPP big 10 (no LIMIT: the whale and the users of the last 10 s)", await probedCommand(client, port, ["SESS.SOAPP", "big", "10"]), stepped);
  // Big kills reply once the sweeper has freed their graveyard: the round
  // trip is that wait, the server time the command's own constant work.
  const freed = "reply once freed";
  const memoryBefore = await usedMemory(client);
  row(`SESS.KILLSOID of a user with ${fmt(WHALE)} sessions`, await probedCommand(client, port, ["SESS.KILLSOID", "big", whale]), freed);
  row(`SESS.KILLALL of ${fmt(SESSIONS)} sessions`, await probedCommand(client, port, ["SESS.KILLALL", "big"]), freed);
  const freedMb = (memoryBefore - await usedMemory(client)) / 1e6;
  log(`the kills freed ${freedMb.toFixed(0)} MB`);

  // Mass expiry: an app whose sessions all expire in the same second, a
  // little after they were written, on a master with two replicas (each
  // removal goes to both); the probe runs until they are swept.
  const replicas = [];
  for (let i = 0; i < 2; i++) {
    replicas.push(await startRedis(["--replicaof", "127.0.0.1", String(port)], { pinned: false }));
  }
  for (const replica of replicas) {
    while ((await infoField(replica.client, "replication", "master_link_status")) !== "up") {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const now = Math.floor((await client.time()).getTime() / 1000);
  const margin = QUICK ? 15 : 60;
  t = Date.now();
  await populate(client, "doomed", SESSIONS, USERS, false, { now: now - 7200 + margin, spread: 1 });
  log(`populated the expiring app in ${((Date.now() - t) / 1000).toFixed(1)} s; waiting for the expiry`);
  const expiredBefore = Number(await infoField(client, "sess", "expired"));
  const expiresAt = (now + margin + 1) * 1000;
  if (Date.now() > expiresAt - 1000) throw new Error("writing the expiring app took longer than its margin");
  await new Promise((r) => setTimeout(r, expiresAt - Date.now() - 1000));
  row(`sweep of ${fmt(SESSIONS)} sessions expiring at once`, await probed(port, async () => {
    for (let waited = 0; waited < 300000; waited += 200) {
      await new Promise((r) => setTimeout(r, 200));
      const expired = Number(await infoField(client, "sess", "expired")) - expiredBefore;
      if (expired >= SESSIONS) return expired;
    }
    throw new Error("the sweep did not finish within 5 minutes");
  }), "until every session was swept; 2 replicas");

  const seconds = (Date.now() - started) / 1000;
  const version = await infoField(client, "server", "redis_version");
  const lines = [];
  const p = (s = "") => lines.push(s);
  p(`Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Redis ${version}, in ${Math.round(seconds)} s${QUICK ? " (--quick: 100,000 sessions)" : ""}.`);
  p();
  p(`One app of ${fmt(SESSIONS)} sessions over ${fmt(USERS)} users (5 each, last active over the past hour), plus one user with ${fmt(WHALE)} sessions. While each operation runs, another connection PINGs in a loop; the bar for its worst round trip is ${BAR_MS} ms.`);
  p();
  p("| operation | server time, ms | round trip, ms | worst concurrent PING, ms | under 50 ms |");
  p("|---|---|---|---|---|");
  for (const r of rows) {
    const server = r.serverMs === undefined ? "—" : r.serverMs.toFixed(2);
    p(`| ${r.operation}${r.note ? ` (${r.note})` : ""} | ${server} | ${r.ms.toFixed(1)} | ${r.worst.toFixed(1)} | ${r.worst < BAR_MS ? "yes" : "**no**"} |`);
  }
  p();
  p(`Memory: ${perSession.toFixed(0)} bytes per session at ${fmt(SESSIONS)} sessions (used_memory, session data included). Written straight into the layout at ${fmt(populateRate)} sessions/s; SESS.CREATE under redis-benchmark (50 clients, no pipeline): ${fmt(createRate)} sessions/s.`);
  p();
  p(`Listings "in steps" run 4 ms within the command, then 2 ms at a time, 1 ms apart, with the client waiting (the server time is the first step's); the round trip is the whole listing, the reply included.`);
  p();
  p(`The two kills freed ${fmt(freedMb)} MB of used_memory by the time of their replies; each replied with the number of sessions it killed (${rows.filter((r) => r.operation.includes("KILL")).map((r) => fmt(r.result)).join(" and ")}).`);
  const report = lines.join("\n");
  console.log(report);
  const dir = path.join(ROOT, "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "scale.md"), report + "\n");
  for (const replica of replicas) await replica.client.quit();
  await client.quit();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
