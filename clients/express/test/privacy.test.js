// The session id (the cookie's value) never reaches Redis: not in a key, not
// in a value, not in a command (MONITOR), not in the append-only file.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");
const { SessStore, tokenOf } = require("../index");
const { buildApp } = require("./app");
const h = require("./helpers");

const app = "privacy";

// Everything MONITOR shows until stop() is called.
async function monitor(port) {
  const socket = net.connect(port, "127.0.0.1");
  let seen = "";
  socket.on("data", (chunk) => {
    seen += chunk.toString("latin1");
  });
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write("MONITOR\r\n");
  const deadline = Date.now() + 5000;
  while (!seen.includes("+OK")) {
    if (Date.now() > deadline) throw new Error("MONITOR did not start");
    await h.sleep(5);
  }
  return {
    async stop() {
      await h.sleep(100);
      socket.destroy();
      return seen;
    },
  };
}

async function info(admin, field) {
  const text = await admin.sendCommand(["INFO", "persistence"]);
  const line = text.split("\r\n").find((l) => l.startsWith(`${field}:`));
  return line ? line.slice(field.length + 1) : "";
}

// Every key, and every field, member and value of every key, as text.
async function everything(admin) {
  const parts = [];
  let cursor = "0";
  do {
    const [next, keys] = await admin.sendCommand(["SCAN", cursor, "COUNT", "1000"]);
    cursor = next;
    for (const key of keys) {
      parts.push(key);
      const type = await admin.sendCommand(["TYPE", key]);
      if (type === "hash") parts.push(...(await admin.sendCommand(["HGETALL", key])));
      else if (type === "zset") parts.push(...(await admin.sendCommand(["ZRANGE", key, "0", "-1", "WITHSCORES"])));
      else if (type === "set") parts.push(...(await admin.sendCommand(["SMEMBERS", key])));
      else if (type === "list") parts.push(...(await admin.sendCommand(["LRANGE", key, "0", "-1"])));
      else if (type === "string") parts.push(await admin.sendCommand(["GET", key]));
      else parts.push(`(type ${type})`);
    }
  } while (cursor !== "0");
  return parts.join("\n");
}

describe("the cookie value in Redis", function () {
  let client;
  let admin;
  let server;
  let store;
  const secrets = new Set();
  before(async function () {
    client = await h.nodeRedis(4);
    admin = await h.admin();
    await admin.sendCommand(["SESS.KILLALL", app]);
    store = new SessStore({ client, app });
    server = await h.listen(buildApp(require("express5"), store));
  });
  after(async function () {
    await server.close();
    await admin.sendCommand(["SESS.KILLALL", app]);
    await h.close(client);
    await h.close(admin);
  });

  it("is nowhere: keys, values, MONITOR or the AOF", async function () {
    await admin.sendCommand(["CONFIG", "SET", "appendonly", "yes"]);
    const deadline = Date.now() + 20000;
    while ((await info(admin, "aof_rewrite_in_progress")) !== "0" || (await info(admin, "aof_rewrite_scheduled")) !== "0") {
      if (Date.now() > deadline) throw new Error("the AOF rewrite did not end");
      await h.sleep(50);
    }
    const watch = await monitor(h.port);

    const remember = (agent) => {
      if (agent.sid()) {
        secrets.add(agent.sid());
        secrets.add(agent.cookie());
        secrets.add(decodeURIComponent(agent.cookie()));
      }
    };
    const agents = [new h.Agent(server.base), new h.Agent(server.base), new h.Agent(server.base)];
    const steps = [
      (a) => a.get("/set?cart=[1,2]"),
      (a) => a.get("/show"),
      (a) => a.get("/maxage?ms=600000"),
      (a) => a.post("/login", { username: "pat", password: "pw" }),
      (a) => a.get("/set?theme=%22dark%22"),
      (a) => a.get("/become?id=pat2"),
      (a) => a.get("/devices"),
      (a) => a.get("/regenerate"),
      (a) => a.get("/set?x=1"),
    ];
    for (const step of steps) {
      for (const agent of agents) {
        await step(agent);
        remember(agent);
      }
    }
    await agents[0].get("/logout-others");
    remember(agents[0]);
    await agents[1].post("/logout");
    remember(agents[1]);
    await agents[2].get("/destroy");
    for (const sid of [...secrets]) {
      await store.get(sid);
      await store.touch(sid, { cookie: { expires: new Date(Date.now() + 99000) } });
      await store.set(sid, { cookie: {}, userId: "direct" });
      await store.destroyUser("direct", { except: sid });
      await store.destroy(sid);
    }
    const watched = await watch.stop();

    assert.ok(secrets.size >= 9, `saw ${secrets.size} cookie values`);
    assert.match(watched, /SESS\.CREATE/i);
    assert.match(watched, /SESS\.ASSIGN/i);
    assert.match(watched, /SESS\.KILLSOID/i);
    const stored = await everything(admin);
    const dir = await admin.sendCommand(["CONFIG", "GET", "dir"]);
    const aofDir = path.join(dir[1], (await admin.sendCommand(["CONFIG", "GET", "appenddirname"]))[1]);
    const aof = fs
      .readdirSync(aofDir)
      .map((f) => fs.readFileSync(path.join(aofDir, f), "latin1"))
      .join("\n");
    assert.match(aof, /HSET/, "the AOF holds the sessions' writes");
    for (const secret of secrets) {
      assert.ok(secret.length >= 20);
      assert.ok(!stored.includes(secret), `a key or value holds ${secret}`);
      assert.ok(!watched.includes(secret), `MONITOR showed ${secret}`);
      assert.ok(!aof.includes(secret), `the AOF holds ${secret}`);
    }
    // What Redis does hold is the derived token.
    assert.ok(watched.includes(tokenOf(agents[0].sid())) || watched.includes("(redacted)"));
  });
});
