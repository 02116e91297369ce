// @fastify/session (fastify 5 with @fastify/cookie) with the store.
"use strict";

const assert = require("node:assert/strict");
const Fastify = require("fastify");
const { SessStore, tokenOf } = require("../index");
const h = require("./helpers");

const app = "fastapp";

describe("@fastify/session with the store", function () {
  let client;
  let admin;
  let fastify;
  let base;
  let store;
  before(async function () {
    client = await h.nodeRedis(5);
    admin = await h.admin();
    await admin.sendCommand(["SESS.KILLALL", app]);
    store = new SessStore({ client, app });
    fastify = Fastify();
    fastify.register(require("@fastify/cookie"));
    fastify.register(require("@fastify/session"), {
      secret: "a secret of at least thirty-two characters",
      store,
      saveUninitialized: false,
      cookie: { secure: false, maxAge: 1800 * 1000 },
    });
    const view = (request) => {
      const data = {};
      for (const key of Object.keys(request.session)) if (key !== "cookie") data[key] = request.session[key];
      return { sid: request.session.sessionId, data };
    };
    fastify.get("/show", async (request) => view(request));
    fastify.get("/set", async (request) => {
      for (const [key, value] of Object.entries(request.query)) request.session.set(key, JSON.parse(value));
      return view(request);
    });
    fastify.get("/unset", async (request) => {
      for (const key of Object.keys(request.query)) delete request.session[key];
      return view(request);
    });
    fastify.get("/login", async (request) => {
      await request.session.regenerate();
      request.session.set("userId", request.query.user);
      return view(request);
    });
    fastify.get("/logout", async (request) => {
      await request.session.destroy();
      return { ok: true };
    });
    await fastify.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${fastify.server.address().port}`;
  });
  after(async function () {
    await fastify.close();
    await admin.sendCommand(["SESS.KILLALL", app]);
    await h.close(client);
    await h.close(admin);
  });

  it("saves, loads, changes and removes keys, nested data exact", async function () {
    const agent = new h.Agent(base);
    const nested = { a: [1, { b: "c\n\"" }], n: 2.5 };
    await agent.get(`/set?nested=${encodeURIComponent(JSON.stringify(nested))}&k=1`);
    const sid = agent.sid("sessionId");
    assert.ok(sid);
    assert.deepEqual((await agent.get("/show")).body.data, { nested, k: 1 });
    await agent.get("/unset?k");
    await agent.get("/set?m=3");
    assert.deepEqual((await agent.get("/show")).body.data, { nested, m: 3 });
    const stored = await h.peek(admin, app, tokenOf(sid));
    assert.equal(stored.ttl, 1800);
    assert.deepEqual(Object.keys(stored.d).sort(), ["cookie", "m", "nested"]);
    assert.equal(stored.ip, "127.0.0.1");
    assert.match(stored.id, /^anon:/);
  });

  it("regenerates into a session of the user and destroys it", async function () {
    const agent = new h.Agent(base);
    await agent.get("/set?cart=[1]");
    const anonymous = agent.sid("sessionId");
    await agent.get("/login?user=fiona");
    const sid = agent.sid("sessionId");
    assert.notEqual(sid, anonymous);
    assert.equal(await h.peek(admin, app, tokenOf(anonymous)), null);
    const sessions = await store.sessionsOf("fiona");
    assert.deepEqual(sessions.map((s) => s.handle), [tokenOf(sid)]);
    assert.deepEqual((await agent.get("/show")).body.data, { userId: "fiona" });
    await agent.get("/logout");
    assert.deepEqual(await store.sessionsOf("fiona"), []);
  });

  it("starts a new session for unknown ids", async function () {
    const agent = new h.Agent(base);
    agent.jar.set("sessionId", "bogus.value");
    await agent.get("/set?z=1");
    assert.notEqual(agent.cookie("sessionId"), "bogus.value");
    assert.deepEqual((await agent.get("/show")).body.data, { z: 1 });
  });
});
