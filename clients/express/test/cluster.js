// The store on a Redis Cluster of three masters: node-redis createCluster
// (v4 and v5) and ioredis Cluster, apps spread over the nodes. Run by
// tests/express_store.rs (SESS_TEST_CLUSTER_PORT is one of the nodes).
"use strict";

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { SessStore, tokenOf } = require("../index");
const { buildApp } = require("./app");
const h = require("./helpers");

const port = h.clusterPort;

function cookie() {
  return { originalMaxAge: 3600000, expires: new Date(Date.now() + 3600000).toISOString(), httpOnly: true, path: "/" };
}

const clusters = {
  "node-redis v4 createCluster": async () => {
    const c = require("redis4").createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
    c.on("error", () => {});
    await c.connect();
    return { client: c, close: () => c.disconnect() };
  },
  "node-redis v5 createCluster": async () => {
    const c = require("redis5").createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
    c.on("error", () => {});
    await c.connect();
    return { client: c, close: () => c.destroy() };
  },
  "ioredis Cluster": async () => {
    const Redis = require("ioredis");
    const c = new Redis.Cluster([{ host: "127.0.0.1", port }], { lazyConnect: true });
    c.on("error", () => {});
    await c.connect();
    return { client: c, close: () => c.disconnect() };
  },
};

describe("the store on a cluster", function () {
  before(function () {
    assert.ok(port > 0, "SESS_TEST_CLUSTER_PORT names a cluster node");
  });

  for (const [kind, make] of Object.entries(clusters)) {
    describe(`through ${kind}`, function () {
      let cluster;
      before(async function () {
        cluster = await make();
      });
      after(async function () {
        await cluster.close();
      });

      it("gets, sets, merges, moves, lists and destroys for apps spread over the nodes", async function () {
        const prefix = kind.startsWith("ioredis") ? "ci" : kind.includes("v4") ? "c4" : "c5";
        const nodes = new Set();
        for (let i = 0; i < 8; i++) {
          const app = `${prefix}app${i}`;
          const store = new SessStore({ client: cluster.client, app });
          await store.clear();
          const slot = Number(await sendAnywhere(cluster.client, ["CLUSTER", "KEYSLOT", app]));
          nodes.add(await ownerPort(cluster.client, slot));

          const sid = crypto.randomBytes(18).toString("base64url");
          await store.set(sid, { cookie: cookie(), cart: [i, { n: i }] });
          const loaded = await store.get(sid);
          assert.deepEqual(loaded.cart, [i, { n: i }]);
          const other = await store.get(sid);
          loaded.a = 1;
          other.b = 2;
          await Promise.all([store.set(sid, loaded), store.set(sid, other)]);
          const merged = await store.get(sid);
          assert.equal(merged.a, 1);
          assert.equal(merged.b, 2);

          // A login without regenerate: SET and ASSIGN in one transaction.
          merged.passport = { user: "alice" };
          await store.set(sid, merged);
          const alice = await store.sessionsOf("alice");
          assert.deepEqual(alice.map((s) => s.handle), [tokenOf(sid)]);
          assert.deepEqual(alice[0].data.cart, [i, { n: i }]);

          const second = crypto.randomBytes(18).toString("base64url");
          await store.set(second, { cookie: cookie(), passport: { user: "alice" } });
          assert.equal(await store.length(), 2);
          assert.equal((await store.all()).length, 2);
          assert.equal(await store.activity(60), 1);
          assert.equal(await store.destroyUser("alice", { except: sid }), 1);
          assert.equal(await store.get(second), null);
          await store.destroy(sid);
          assert.equal(await store.get(sid), null);
          assert.deepEqual(await store.sessionsOf("alice"), []);
          await store.destroy("unknown");
          assert.equal(await store.get("unknown"), null);
        }
        assert.ok(nodes.size >= 2, `the apps sit on ${nodes.size} node(s)`);
      });

      it("serves express 5 with passport: login and logout leave one session under the right user", async function () {
        const app = kind.startsWith("ioredis") ? "cexpio" : kind.includes("v4") ? "cexp4" : "cexp5";
        const store = new SessStore({ client: cluster.client, app });
        await store.clear();
        const web = buildApp(require("express5"), store);
        const server = await h.listen(web);
        try {
          const agent = new h.Agent(server.base);
          await agent.get("/set?cart=[1]");
          await agent.post("/login", { username: "bo", password: "pw" });
          assert.deepEqual((await store.sessionsOf("bo")).map((s) => s.handle), [tokenOf(agent.sid())]);
          assert.equal(await store.length(), 1);
          await agent.get("/become?id=ignored");
          await agent.post("/logout");
          assert.deepEqual(await store.sessionsOf("bo"), []);
          assert.equal(await store.length(), 1);
          assert.equal((await agent.get("/show")).body.user, null);
          assert.deepEqual(web.locals.errors.map(String), []);
        } finally {
          await server.close();
          await store.clear();
        }
      });
    });
  }
});

// A command that any node answers.
async function sendAnywhere(client, args) {
  if (typeof client.call === "function") return client.nodes("master")[0].call(...args);
  return client.sendCommand(undefined, true, args);
}

async function ownerPort(client, slot) {
  const ranges = await sendAnywhere(client, ["CLUSTER", "SLOTS"]);
  for (const range of ranges) {
    if (slot >= Number(range[0]) && slot <= Number(range[1])) return Number(range[2][1]);
  }
  throw new Error(`slot ${slot} is not served`);
}
