// Redis stopped under a running application: every failure reaches express
// as next(err) (and the store's callers as callback(err) or a rejected
// promise); no unhandled rejection, no crash. Uses a server of its own
// (SESS_TEST_DOWN_PORT), which it shuts down.
"use strict";

const assert = require("node:assert/strict");
const { SessStore } = require("../index");
const { buildApp } = require("./app");
const h = require("./helpers");

const app = "downapp";

// Clients set to fail at once while the server is away: node-redis without
// its offline queue, ioredis without offline queue or retries.
const failFast = {
  "node-redis v4": () => h.nodeRedis(4, { port: h.downPort, client: { disableOfflineQueue: true } }),
  "node-redis v5": () => h.nodeRedis(5, { port: h.downPort, client: { disableOfflineQueue: true } }),
  "node-redis v6": () => h.nodeRedis(6, { port: h.downPort, client: { disableOfflineQueue: true } }),
  ioredis: () => h.ioredis({ port: h.downPort, client: { enableOfflineQueue: false, maxRetriesPerRequest: 0 } }),
};

describe("errors when the server is stopped", function () {
  const setups = [];
  before(async function () {
    assert.ok(h.downPort > 0, "SESS_TEST_DOWN_PORT names a server this suite may stop");
    for (const [kind, make] of Object.entries(failFast)) {
      for (const [version, express] of [
        ["express 4", require("express4")],
        ["express 5", require("express5")],
      ]) {
        const client = await make();
        const store = new SessStore({ client, app });
        const web = buildApp(express, store);
        const server = await h.listen(web);
        setups.push({ name: `${version} through ${kind}`, client, store, web, server });
      }
    }
  });
  after(async function () {
    for (const s of setups) {
      await s.server.close();
      await h.close(s.client);
    }
  });

  it("reach next(err), the callbacks and the promises", async function () {
    await h.noUnhandledRejection(async () => {
      // Sessions made while the server is up.
      for (const s of setups) {
        s.agent = new h.Agent(s.server.base);
        const res = await s.agent.get("/set?x=1");
        assert.equal(res.status, 200, s.name);
        assert.deepEqual(s.web.locals.errors, []);
      }
      const admin = await h.admin(h.downPort);
      await admin.sendCommand(["SHUTDOWN", "NOSAVE"]).catch(() => {});
      await h.close(admin);
      await h.sleep(300);

      for (const s of setups) {
        // Loading the session fails: the request ends in the error handler.
        const load = await s.agent.get("/show");
        assert.equal(load.status, 500, s.name);
        assert.ok(load.body.error, s.name);
        // Saving a new session fails: the response was written already,
        // the error still reaches next(err).
        const before = s.web.locals.errors.length;
        await new h.Agent(s.server.base).get("/set?y=2");
        const deadline = Date.now() + 3000;
        while (s.web.locals.errors.length === before && Date.now() < deadline) await h.sleep(10);
        assert.ok(s.web.locals.errors.length > before, `${s.name}: the failed save reached next(err)`);
        // A login: regenerate's destroy fails.
        const login = await s.agent.post("/login", { username: "u", password: "pw" });
        assert.equal(login.status, 500, s.name);

        // The store's own methods.
        const calls = [
          (cb) => s.store.get("sid", cb),
          (cb) => s.store.set("sid", { cookie: {}, a: 1 }, cb),
          (cb) => s.store.touch("sid", { cookie: { expires: new Date(Date.now() + 60000) } }, cb),
          (cb) => s.store.destroy("sid", cb),
          (cb) => s.store.all(cb),
          (cb) => s.store.length(cb),
          (cb) => s.store.clear(cb),
          (cb) => s.store.sessionsOf("u", cb),
          (cb) => s.store.destroyUser("u", cb),
          (cb) => s.store.destroyHandle("A".repeat(64), cb),
          (cb) => s.store.activity(60, cb),
        ];
        for (const call of calls) {
          const viaCallback = await new Promise((resolve) => call((error) => resolve(error)));
          assert.ok(viaCallback instanceof Error, `${s.name}: ${call}`);
          await assert.rejects(call(undefined), Error, `${s.name}: ${call}`);
        }
      }
    });
  });
});
