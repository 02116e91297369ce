// make bench-import: 100,000 sessions written by redis-sessions 4.0.0 itself
// (a fifth with data, a tenth no_resave), moved into the module's layout
// twice, while a second connection PINGs in a loop:
// 1. driven: SESS.IMPORT app (100 sessions a call) until nothing remains,
//    with the background import off (sess.import-batch 0);
// 2. in the background: the namespace set on a server holding the library's
//    data, and nothing else done until INFO sess says sess_import_done:1.
// Reports each import's total time and the worst PING (and the slowest
// SESS.IMPORT call), and checks that every session's hash in the module's
// layout holds exactly what the library had written and nothing of the
// library's keys is left. Saves the report to bench/results/import.md.
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const Library = require("redis-sessions").default;
const { ROOT, probed, startRedis } = require("./common");

const SESSIONS = process.argv.includes("--quick") ? 10000 : 100000;
const APP = "legacy";
const log = (...args) => console.error(...args);
const fmt = (x) => Math.round(x).toLocaleString("en-US");

async function main() {
  const { client, port } = await startRedis(["--sess.import-namespace", "rs", "--sess.import-batch", "0"]);
  const library = new Library({ port, wipe: 0 });

  const { tokens, written } = await writeLibrary(library, client);
  let calls = 0;
  let slowest = 0;
  const run = await probed(port, async () => {
    for (;;) {
      const started = process.hrtime.bigint();
      const reply = await client.sendCommand(["SESS.IMPORT", APP]);
      slowest = Math.max(slowest, Number(process.hrtime.bigint() - started) / 1e6);
      calls++;
      if (reply[5] === 0) return reply;
    }
  });
  log(`imported in ${calls} calls, ${run.ms.toFixed(0)} ms, worst PING ${run.worst.toFixed(1)} ms`);
  const same = await checkMoved(client, tokens, written);

  // The same data again, moved by the module by itself.
  await client.configSet("sess.import-namespace", "");
  await client.flushAll();
  const again = await writeLibrary(library, client);
  const background = await probed(port, async () => {
    await client.configSet({ "sess.import-batch": "100", "sess.import-namespace": "rs" });
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      if ((await client.info("sess")).includes("sess_import_done:1")) return;
    }
  });
  log(`background import in ${background.ms.toFixed(0)} ms, worst PING ${background.worst.toFixed(1)} ms`);
  const sameAgain = await checkMoved(client, again.tokens, again.written);

  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Redis ${(await client.info("server")).match(/redis_version:(\S+)/)[1]}.`,
    "",
    `${fmt(SESSIONS)} sessions written by redis-sessions 4.0.0 (${fmt(SESSIONS / 5)} users; a fifth with data, a tenth no_resave), moved while another connection PINGs:`,
    "",
    "| import | time | SESS.IMPORT calls | slowest call, ms | worst concurrent PING, ms | sessions kept exactly |",
    "|---|---|---|---|---|---|",
    `| \`SESS.IMPORT ${APP}\` (100 sessions a call) in a loop | ${(run.ms / 1000).toFixed(2)} s (${fmt(SESSIONS / (run.ms / 1000))} sessions/s) | ${calls} | ${slowest.toFixed(1)} | ${run.worst.toFixed(1)} | ${fmt(same)} of ${fmt(SESSIONS)} |`,
    `| in the background (default settings), from \`CONFIG SET sess.import-namespace rs\` to \`sess_import_done:1\` | ${(background.ms / 1000).toFixed(2)} s (${fmt(SESSIONS / (background.ms / 1000))} sessions/s) | 0 | — | ${background.worst.toFixed(1)} | ${fmt(sameAgain)} of ${fmt(SESSIONS)} |`,
  ];
  const report = lines.join("\n");
  console.log(report);
  const dir = path.join(ROOT, "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "import.md"), report + "\n");
  await library.quit();
  await client.quit();
  process.exit(0);
}

// redis-sessions writes SESSIONS sessions; returns their tokens and hashes.
async function writeLibrary(library, client) {
  const t = Date.now();
  const tokens = [];
  for (let from = 0; from < SESSIONS; from += 1000) {
    const batch = [];
    for (let i = from; i < Math.min(SESSIONS, from + 1000); i++) {
      const options = { app: APP, id: `user${i % (SESSIONS / 5)}`, ip: "10.0.0.1", ttl: 7200 };
      if (i % 5 === 0) options.d = { cart: i, plan: "pro", ok: true };
      if (i % 10 === 0) options.no_resave = true;
      batch.push(library.create(options));
    }
    for (const { token } of await Promise.all(batch)) tokens.push(token);
  }
  log(`redis-sessions 4.0.0 wrote ${fmt(SESSIONS)} sessions in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const written = await hashes(client, (token) => `rs:${APP}:${token}`, tokens);
  return { tokens, written };
}

// How many sessions the module's layout holds exactly as the library wrote
// them; fails if any differs or a library key is left.
async function checkMoved(client, tokens, written) {
  const moved = await hashes(client, (token) => `rs:{${APP}}:${token}`, tokens);
  let same = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (JSON.stringify(moved[i]) === JSON.stringify(written[i])) same++;
    else if (same + 10 > i) log(`differs: ${tokens[i]} ${JSON.stringify(written[i])} -> ${JSON.stringify(moved[i])}`);
  }
  const left = (await client.keys(`rs:${APP}:*`)).length + (await client.zCard("rs:SESSIONS"));
  if (same !== tokens.length || left !== 0) throw new Error(`${same} of ${tokens.length} sessions kept exactly; ${left} library keys or entries left`);
  return same;
}

// Every session hash's fields, in batches of pipelined HGETALLs.
async function hashes(client, name, tokens) {
  const out = [];
  for (let from = 0; from < tokens.length; from += 1000) {
    const batch = tokens.slice(from, from + 1000).map((token) => client.hGetAll(name(token)));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
