// The migration guide (docs/migration.md), followed step by step against
// sessions that redis-sessions 4.0.0 itself wrote (pinned in devDependencies):
// nobody is logged out, and nothing of the library's data is left at the end.
"use strict";

const should = require("should");
const { createClient } = require("redis");
const Library = require("redis-sessions").default;
const RedisSessions = require("../index");

const port = Number(process.env.SESS_TEST_PORT || 6379);
const app = "migrating";

describe("migration from redis-sessions 4.0.0 (README guide)", function () {
  let redis;
  let old;
  let fresh;
  const written = [];

  before(async function () {
    redis = createClient({ socket: { port } });
    await redis.connect();
    old = new Library({ port, wipe: 0 });
  });
  after(async function () {
    await redis.sendCommand(["CONFIG", "SET", "sess.import-namespace", ""]);
    await old.quit();
    await fresh.quit();
    await redis.quit();
  });

  it("0. the old services run on redis-sessions 4.0.0", async function () {
    for (let i = 0; i < 300; i++) {
      const options = { app, id: `user${i % 120}`, ip: `10.0.${i % 7}.1`, ttl: 3600 };
      if (i % 3 === 0) options.d = { cart: i, name: `n${i}`, vip: i % 2 === 0 };
      if (i % 10 === 0) options.no_resave = true;
      const { token } = await old.create(options);
      written.push(token);
    }
    await old.get({ app, token: written[1] });
    await old.set({ app, token: written[3], d: { extra: "x" } });
    (await redis.exists(`rs:${app}:${written[0]}`)).should.equal(1);
  });

  it("1. load the module with sess.import-namespace naming the library's namespace", async function () {
    (await redis.sendCommand(["CONFIG", "SET", "sess.import-namespace", "rs"])).should.equal("OK");
  });

  it("2. a switched service sees every session the old ones wrote, as they wrote it", async function () {
    fresh = new RedisSessions({ port });
    // What the library itself answers, then the same session read through
    // the module (one read later: r one higher, idle 0 or a second).
    const before = await old.get({ app, token: written[3] });
    const after = await fresh.get({ app, token: written[3] });
    after.r.should.equal(before.r + 1);
    for (const field of ["id", "w", "ttl", "ip", "d"]) should(after[field]).eql(before[field]);
    const noResave = await fresh.get({ app, token: written[30] });
    noResave.no_resave.should.be.true();
    noResave.d.should.eql({ cart: 30, name: "n30", vip: true });
  });

  it("2b. in between: old services no longer see a session a new one has used", async function () {
    // Moved sessions live in the module's layout only, which the library
    // does not read: switch each app's services together (docs/migration.md).
    (await old.get({ app, token: written[3] }) === null).should.be.true();
    (await old.get({ app, token: written[4] })).id.should.equal("user4");
    const created = await fresh.create({ app, id: "user5", ip: "10.1.1.1" });
    (await old.get({ app, token: created.token }) === null).should.be.true();
    (await fresh.soid({ app, id: "user5" })).sessions.should.have.length(4);
  });

  it("3. SESS.IMPORT until nothing remains", async function () {
    let remaining = -1;
    let calls = 0;
    while (remaining !== 0) {
      const reply = await redis.sendCommand(["SESS.IMPORT", app, "COUNT", "100"]);
      const counts = {};
      for (let i = 0; i < reply.length; i += 2) counts[reply[i]] = reply[i + 1];
      remaining = counts.remaining;
      calls++;
      calls.should.be.below(10);
    }
    (await redis.keys(`rs:${app}:*`)).should.eql([]);
    const global = await redis.zRange("rs:SESSIONS", 0, -1);
    global.filter((m) => m.startsWith(`${app}:`)).should.eql([]);
  });

  it("4. remove the setting: every live session is still there", async function () {
    (await redis.sendCommand(["CONFIG", "SET", "sess.import-namespace", ""])).should.equal("OK");
    for (const token of written) {
      const session = await fresh.get({ app, token });
      should.exist(session, token);
    }
    (await fresh.activity({ app, deltaTime: 600 })).activity.should.equal(120);
  });
});
