// express 4 and express 5 with express-session 1.18 and passport 0.7, through
// real HTTP requests, against a real server with the module.
"use strict";

const assert = require("node:assert/strict");
const signature = require("cookie-signature");
const { SessStore, tokenOf } = require("../index");
const { buildApp } = require("./app");
const h = require("./helpers");

const versions = { "express 4": require("express4"), "express 5": require("express5") };

async function waitFor(check, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await h.sleep(5);
  }
}

for (const [name, express] of Object.entries(versions)) {
  const app = name === "express 4" ? "ex4" : "ex5";

  describe(`${name} with express-session and the store`, function () {
    let client;
    let admin;
    let store;
    let server;
    let web;
    let base;
    before(async function () {
      client = await h.nodeRedis(4);
      admin = await h.admin();
      store = new SessStore({ client, app });
      web = buildApp(express, store);
      server = await h.listen(web);
      base = server.base;
    });
    beforeEach(async function () {
      await admin.sendCommand(["SESS.KILLALL", app]);
      web.locals.errors.length = 0;
    });
    afterEach(function () {
      assert.deepEqual(web.locals.errors.map(String), [], "no request failed");
    });
    after(async function () {
      await server.close();
      await admin.sendCommand(["SESS.KILLALL", app]);
      await h.close(client);
      await h.close(admin);
    });

    it("saves a session once it has data, under an anonymous user of its own, and loads it back", async function () {
      const agent = new h.Agent(base);
      const first = await agent.get("/show");
      assert.equal(first.setCookie.length, 0, "saveUninitialized: false");
      assert.deepEqual(await h.soapp(admin, app), []);
      const cart = [1, { sku: "A", tags: ["x", null] }, "é🍪\n\"\\"];
      await agent.get(`/set?cart=${encodeURIComponent(JSON.stringify(cart))}`);
      const sid = agent.sid();
      assert.ok(sid);
      const shown = await agent.get("/show");
      assert.equal(shown.body.sid, sid);
      assert.deepEqual(shown.body.data.cart, cart);
      const sessions = await h.soapp(admin, app);
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0].token, tokenOf(sid));
      assert.equal(sessions[0].id, `anon:${tokenOf(sid).slice(0, 22)}`);
      assert.equal(sessions[0].ttl, 3600);
      assert.equal(sessions[0].ip, "127.0.0.1");
    });

    it("round-trips nested data exactly", async function () {
      const agent = new h.Agent(base);
      const data = {
        a: { b: { c: [1, 2.5, -3e-7, true, null, { d: "e" }] } },
        big: 12345678901234567000,
        s: "tab\t quote\" backslash\\ line\u2028 emoji 😀",
        list: [[], {}, [[{}]]],
      };
      const query = Object.entries(data)
        .map(([k, v]) => `${k}=${encodeURIComponent(JSON.stringify(v))}`)
        .join("&");
      await agent.get(`/set?${query}`);
      const shown = await agent.get("/show");
      assert.deepEqual(shown.body.data, JSON.parse(JSON.stringify(data)));
    });

    it("does not write on a request that changes nothing: the GET slid the expiry (touch is free)", async function () {
      const agent = new h.Agent(base);
      await agent.get("/set?n=1");
      const token = tokenOf(agent.sid());
      const before = await h.peek(admin, app, token);
      const adapter = store.redis;
      const touch = store.touch;
      let touched = 0;
      store.touch = function (...args) {
        touched += 1;
        return touch.apply(this, args);
      };
      const sent = h.recordCommands(store);
      try {
        for (let i = 0; i < 3; i++) await agent.get("/show");
      } finally {
        store.redis = adapter;
        delete store.touch;
      }
      assert.equal(touched, 3, "express-session touched the session");
      assert.deepEqual(sent.map((c) => c[0]), ["SESS.GET", "SESS.GET", "SESS.GET"]);
      const after = await h.peek(admin, app, token);
      assert.equal(after.w, before.w, "no write");
      assert.equal(after.r, before.r + 3, "three reads");
      assert.equal(after.ttl, 3600);
      assert.ok(after.idle <= 1, "just used");
    });

    it("changes the module's ttl when the cookie's maxAge changes", async function () {
      const agent = new h.Agent(base);
      await agent.get("/set?n=1");
      const token = tokenOf(agent.sid());
      await agent.get("/maxage?ms=120000");
      assert.equal((await h.peek(admin, app, token)).ttl, 120);
      const w = (await h.peek(admin, app, token)).w;
      await agent.get("/show");
      const after = await h.peek(admin, app, token);
      assert.equal(after.ttl, 120);
      assert.equal(after.w, w, "the new ttl is known: no write");
      await agent.get("/set?m=2");
      assert.equal((await h.peek(admin, app, token)).ttl, 120);
    });

    it("keeps a change made after a mid-request save", async function () {
      const agent = new h.Agent(base);
      await agent.get("/save-then-change");
      assert.equal((await agent.get("/show")).body.data.step, 2);
    });

    it("regenerates: the old session is gone, the new one saved", async function () {
      const agent = new h.Agent(base);
      await agent.get("/set?old=1");
      const oldSid = agent.sid();
      const res = await agent.get("/regenerate");
      assert.notEqual(agent.sid(), oldSid);
      assert.deepEqual(res.body.data, { fresh: true });
      assert.equal(await h.peek(admin, app, tokenOf(oldSid)), null);
      const sessions = await h.soapp(admin, app);
      assert.deepEqual(sessions.map((s) => s.token), [tokenOf(agent.sid())]);
      assert.deepEqual((await agent.get("/show")).body.data, { fresh: true });
    });

    it("destroys", async function () {
      const agent = new h.Agent(base);
      await agent.get("/set?x=1");
      const sid = agent.sid();
      await agent.get("/destroy");
      assert.equal(await h.peek(admin, app, tokenOf(sid)), null);
      assert.deepEqual(await h.soapp(admin, app), []);
      const again = await agent.get("/show");
      assert.notEqual(again.body.sid, sid);
      assert.deepEqual(again.body.data, {});
    });

    it("persists both of two concurrent requests that change different keys", async function () {
      const agent = new h.Agent(base);
      await agent.get("/set?base=0");
      for (let round = 0; round < 3; round++) {
        const group = `${app}-c${round}`;
        await Promise.all([
          agent.get(`/together?group=${group}&n=2&a${round}=1`),
          agent.get(`/together?group=${group}&n=2&b${round}=2`),
        ]);
      }
      const { data } = (await agent.get("/show")).body;
      assert.deepEqual(data, { base: 0, a0: 1, b0: 2, a1: 1, b1: 2, a2: 1, b2: 2 });
    });

    it("logs in with passport 0.7 (regenerate) leaving exactly one session, under the user", async function () {
      const agent = new h.Agent(base);
      await agent.get("/set?cart=[1]");
      const anonymous = agent.sid();
      const bad = await agent.post("/login", { username: "alice", password: "wrong" });
      assert.equal(bad.status, 401);
      const res = await agent.post("/login", { username: "alice", password: "pw" });
      assert.equal(res.status, 200);
      assert.equal(res.body.user, "alice");
      const sid = agent.sid();
      assert.notEqual(sid, anonymous);
      assert.equal(await h.peek(admin, app, tokenOf(anonymous)), null);
      const alice = await store.sessionsOf("alice");
      assert.deepEqual(alice.map((s) => s.handle), [tokenOf(sid)]);
      assert.deepEqual(alice[0].data.passport, { user: "alice" });
      assert.deepEqual((await h.soapp(admin, app)).map((s) => s.id), ["alice"]);
      assert.equal((await agent.get("/show")).body.user, "alice");
      assert.equal((await agent.get("/handle")).body.handle, tokenOf(sid));

      // Logging in again (already logged in) still leaves one.
      await agent.post("/login", { username: "alice", password: "pw" });
      assert.deepEqual((await store.sessionsOf("alice")).map((s) => s.handle), [tokenOf(agent.sid())]);
      assert.equal((await h.soapp(admin, app)).length, 1);
    });

    it("logs out with passport 0.7: the old session is gone, none is left under the user", async function () {
      const agent = new h.Agent(base);
      await agent.post("/login", { username: "bob", password: "pw" });
      const sid = agent.sid();
      const res = await agent.post("/logout");
      assert.equal(res.status, 200);
      assert.equal(res.body.user, null);
      assert.notEqual(agent.sid(), sid);
      assert.equal(await h.peek(admin, app, tokenOf(sid)), null);
      assert.deepEqual(await store.sessionsOf("bob"), []);
      // passport saved `passport: {}` under the old id, then regenerated:
      // the new id's (empty) session is saved because its id changed.
      const left = await h.soapp(admin, app);
      assert.deepEqual(left.map((s) => s.token), [tokenOf(agent.sid())]);
      assert.equal(left[0].id, `anon:${tokenOf(agent.sid()).slice(0, 22)}`);
      assert.equal((await agent.get("/show")).body.user, null);
    });

    it("logs in and out without regenerate: the session keeps its handle and moves between users", async function () {
      const agent = new h.Agent(base);
      await agent.get("/set?cart=[2]");
      const handle = tokenOf(agent.sid());
      await agent.get("/become?id=carol");
      assert.deepEqual((await store.sessionsOf("carol")).map((s) => s.handle), [handle]);
      assert.equal(await store.activity(60), 1, "the anonymous user left with its only session");
      assert.deepEqual((await agent.get("/show")).body.data, { cart: [2], userId: "carol" });
      await agent.get("/unbecome");
      assert.deepEqual(await store.sessionsOf("carol"), []);
      assert.equal(await store.activity(60), 1);
      assert.equal((await h.peek(admin, app, handle)).id, `anon:${handle.slice(0, 22)}`);
      assert.equal(tokenOf(agent.sid()), handle);
    });

    it("lists a user's devices and logs out the others", async function () {
      const phone = new h.Agent(base);
      const laptop = new h.Agent(base);
      await phone.post("/login", { username: "dana", password: "pw" });
      await laptop.post("/login", { username: "dana", password: "pw" });
      const devices = (await laptop.get("/devices")).body;
      assert.equal(devices.length, 2);
      assert.deepEqual(devices.map((d) => d.handle).sort(), [tokenOf(laptop.sid()), tokenOf(phone.sid())].sort());
      assert.ok(devices.every((d) => d.ip === "127.0.0.1" && d.data.passport.user === "dana"));
      assert.ok(devices.every((d) => !JSON.stringify(d).includes(laptop.sid()) && !JSON.stringify(d).includes(phone.sid())));
      assert.deepEqual((await laptop.get("/logout-others")).body, { killed: 1 });
      assert.equal((await phone.get("/show")).body.user, null);
      assert.equal((await laptop.get("/show")).body.user, "dana");
    });

    it("never brings back a session killed while a request that loaded it runs", async function () {
      const agent = new h.Agent(base);
      await agent.post("/login", { username: "kim", password: "pw" });
      const sid = agent.sid();
      const group = `${app}-kill`;
      const pending = agent.get(`/together?group=${group}&n=2&late=1`);
      await waitFor(() => web.locals.waits.get(group) && web.locals.waits.get(group).arrived === 1);
      assert.equal(await store.destroyUser("kim"), 1);
      const other = new h.Agent(base);
      await other.get(`/together?group=${group}&n=2&other=1`);
      await pending;
      assert.equal(await h.peek(admin, app, tokenOf(sid)), null);
      assert.deepEqual(await store.sessionsOf("kim"), []);
      assert.equal((await agent.get("/show")).body.user, null);
      const left = await h.soapp(admin, app);
      assert.deepEqual(left.map((s) => s.token), [tokenOf(other.sid())]);
    });

    it("gives each anonymous session its own user, each counted in activity", async function () {
      const agents = [new h.Agent(base), new h.Agent(base), new h.Agent(base)];
      for (const a of agents) await a.get("/set?x=1");
      const ids = (await h.soapp(admin, app)).map((s) => s.id);
      assert.equal(new Set(ids).size, 3);
      assert.ok(ids.every((id) => /^anon:[0-9A-Za-z]{22}$/.test(id)));
      assert.equal(await store.activity(60), 3);
      // A visitor who signs in: passport's regenerate kills the anonymous
      // session, whose user leaves the activity count at once.
      await agents[0].post("/login", { username: "lee", password: "pw" });
      assert.equal(await store.activity(60), 3);
      await agents[1].post("/login", { username: "lee", password: "pw" });
      assert.equal(await store.activity(60), 2);
    });

    it("treats unknown, forged and malformed cookies as no session", async function () {
      const cases = [
        "s%3Anope.badsignature",
        `s%3A${encodeURIComponent(signature.sign("never-issued", "keyboard cat"))}`,
        "%%%garbage",
        "unsigned-value",
        `s%3A${encodeURIComponent(signature.sign("x".repeat(3000), "keyboard cat"))}`,
      ];
      for (const value of cases) {
        const agent = new h.Agent(base);
        agent.jar.set("connect.sid", value);
        const res = await agent.get("/set?y=1");
        assert.equal(res.status, 200, value);
        assert.notEqual(agent.cookie(), value);
        assert.deepEqual((await agent.get("/show")).body.data, { y: 1 });
      }
      assert.equal((await h.soapp(admin, app)).length, cases.length);
    });
  });
}

for (const [name, express] of Object.entries(versions)) {
  describe(`${name} with rolling sessions`, function () {
    const app = name === "express 4" ? "exroll4" : "exroll5";
    let client;
    let admin;
    let server;
    before(async function () {
      client = await h.nodeRedis(5);
      admin = await h.admin();
      await admin.sendCommand(["SESS.KILLALL", app]);
      const web = buildApp(express, new SessStore({ client, app }), { session: { rolling: true } });
      server = await h.listen(web);
    });
    after(async function () {
      await server.close();
      await admin.sendCommand(["SESS.KILLALL", app]);
      await h.close(client);
      await h.close(admin);
    });

    it("sends the cookie on every response and keeps the session alive without writes", async function () {
      const agent = new h.Agent(server.base);
      await agent.get("/set?r=1");
      const token = tokenOf(agent.sid());
      const w = (await h.peek(admin, app, token)).w;
      for (let i = 0; i < 3; i++) {
        const res = await agent.get("/show");
        assert.equal(res.setCookie.length, 1);
        assert.match(res.setCookie[0], /Expires=/);
      }
      const after = await h.peek(admin, app, token);
      assert.equal(after.w, w);
      assert.equal(after.ttl, 3600);
      assert.deepEqual((await agent.get("/show")).body.data, { r: 1 });
    });
  });
}

for (const [kind, makeClient] of Object.entries(h.clients)) {
  describe(`express 5 through ${kind}`, function () {
    const app = `exc_${kind.replace(/[^a-z0-9]/g, "")}`.slice(0, 20);
    let client;
    let admin;
    let server;
    let store;
    before(async function () {
      client = await makeClient();
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

    it("logs in, merges concurrent changes, moves users and logs out", async function () {
      const agent = new h.Agent(server.base);
      await agent.get("/set?cart=[1]");
      await agent.post("/login", { username: "zed", password: "pw" });
      assert.deepEqual((await store.sessionsOf("zed")).map((s) => s.handle), [tokenOf(agent.sid())]);
      const group = `${app}-m`;
      await Promise.all([
        agent.get(`/together?group=${group}&n=2&a=1`),
        agent.get(`/together?group=${group}&n=2&b=2`),
      ]);
      assert.deepEqual((await agent.get("/show")).body.data, { passport: { user: "zed" }, a: 1, b: 2 });
      await agent.get("/become?id=yan");
      assert.equal((await store.sessionsOf("zed")).length, 1, "passport.user wins over userId");
      await agent.post("/logout");
      assert.deepEqual(await store.sessionsOf("zed"), []);
      assert.equal(await store.length(), 1);
    });
  });
}
