// The store's API against a real server with the module, through each
// client it supports: node-redis v4, v5 and v6, and ioredis.
"use strict";

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { SessStore, tokenOf, SNAPSHOT } = require("../index");
const h = require("./helpers");

const ALNUM64 = /^[0-9A-Za-z]{64}$/;

function cookie(maxAge = 3600000) {
  return { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge).toISOString(), httpOnly: true, path: "/" };
}

function sid() {
  return crypto.randomBytes(18).toString("base64url");
}

describe("tokens derived from session ids", function () {
  it("are 64 base62 characters of SHA-512, fixed for an id", function () {
    assert.equal(tokenOf("abc"), "ZprbNZy0I3rBoW3nIiGDj2cAYqiDNPUXMTgdH7is0yZdn37F6ZcykEgUFHfEeZtw");
    for (const id of ["", "x", "s:looks.signed", "ünïcødé 🍪", "a".repeat(5000), "\u0000\n"]) {
      assert.match(tokenOf(id), ALNUM64);
      assert.equal(tokenOf(id), tokenOf(id));
    }
    assert.notEqual(tokenOf("a"), tokenOf("b"));
  });

  it("follow the documented rule: bytes below 248 in order, then SHA-512 of the digest", function () {
    const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (let i = 0; i < 200; i++) {
      const id = sid();
      let out = "";
      let block = crypto.createHash("sha512").update(id).digest();
      while (out.length < 64) {
        for (const b of block) if (b < 248 && out.length < 64) out += ALPHABET[b % 62];
        block = crypto.createHash("sha512").update(block).digest();
      }
      assert.equal(tokenOf(id), out);
    }
  });

  it("use every character about equally often", function () {
    const counts = new Map();
    for (let i = 0; i < 2000; i++) for (const ch of tokenOf(`id${i}`)) counts.set(ch, (counts.get(ch) || 0) + 1);
    assert.equal(counts.size, 62);
    const expected = (2000 * 64) / 62;
    for (const n of counts.values()) assert.ok(Math.abs(n - expected) < expected * 0.15, `${n} vs ${expected}`);
  });
});

describe("the store's options", function () {
  let client;
  before(async function () {
    client = await h.nodeRedis(4);
  });
  after(async function () {
    await h.close(client);
  });

  it("refuses a bad app, client or option at construction", function () {
    assert.throws(() => new SessStore({ client, app: "x" }), /app/);
    assert.throws(() => new SessStore({ client, app: "has space" }), /app/);
    assert.throws(() => new SessStore({ app: "shop" }), /client/);
    assert.throws(() => new SessStore({ client: {}, app: "shop" }), /client/);
    assert.throws(() => new SessStore({ client, app: "shop", ttl: -1 }), /ttl/);
    assert.throws(() => new SessStore({ client, app: "shop", absoluteTimeout: 5 }), /absoluteTimeout/);
    assert.throws(() => new SessStore({ client, app: "shop", maxSessionsPerUser: 0 }), /maxSessionsPerUser/);
    assert.throws(() => new SessStore({ client, app: "shop", userId: "passport" }), /userId/);
    assert.throws(() => new SessStore({ client, app: "shop", serializer: {} }), /serializer/);
  });

  it("detects each kind of client", async function () {
    const kinds = [];
    for (const make of Object.values(h.clients)) {
      const c = await make();
      kinds.push(new SessStore({ client: c, app: "shop" }).redis.kind);
      await h.close(c);
    }
    assert.deepEqual(kinds, ["node-redis", "node-redis", "node-redis", "ioredis"]);
    const { createCluster } = require("redis4");
    const cluster = createCluster({ rootNodes: [{ url: "redis://127.0.0.1:1" }] });
    assert.equal(new SessStore({ client: cluster, app: "shop" }).redis.kind, "node-redis cluster");
    const Redis = require("ioredis");
    const ioCluster = new Redis.Cluster([{ port: 1 }], { lazyConnect: true });
    assert.equal(new SessStore({ client: ioCluster, app: "shop" }).redis.kind, "ioredis cluster");
  });
});

for (const [kind, makeClient] of Object.entries(h.clients)) {
  const app = `st_${kind.replace(/[^a-z0-9]/g, "")}`.slice(0, 20);

  describe(`the store through ${kind}`, function () {
    let client;
    let admin;
    let store;
    beforeEach(async function () {
      client = client || (await makeClient());
      admin = admin || (await h.admin());
      store = new SessStore({ client, app });
      await admin.sendCommand(["SESS.KILLALL", app]);
    });
    after(async function () {
      await admin.sendCommand(["SESS.KILLALL", app]);
      await h.close(client);
      await h.close(admin);
    });

    it("answers null for unknown and malformed ids, and destroys them without error", async function () {
      for (const id of ["unknown", sid(), "", undefined, null, 42, "x".repeat(10000)]) {
        assert.equal(await store.get(id), null);
      }
      await store.destroy("unknown");
      await store.destroy("");
      await store.destroy(undefined);
      await new Promise((resolve, reject) => store.get("unknown", (e, s) => (e || s !== null ? reject(e) : resolve())));
      await new Promise((resolve, reject) => store.destroy("unknown", (e) => (e ? reject(e) : resolve())));
    });

    it("stores each top-level key as JSON text and gives nested data back exactly", async function () {
      const id = sid();
      const data = {
        cookie: cookie(),
        passport: { user: "bob" },
        cart: [1, 2, { sku: "A-1", qty: 3, tags: ["x", null, true] }],
        profile: { name: "Zoë \"Q\" O'Brien\\", bio: "line1\nline2\ttab \u2028 🍪", deep: { a: { b: { c: [[[]]] } } } },
        numbers: { big: 12345678901234567890, small: 1e-300, neg: -0.5, max: Number.MAX_SAFE_INTEGER },
        flag: false,
        nothing: null,
        empty: {},
        text: "",
        when: new Date("2024-01-02T03:04:05.678Z"),
      };
      await store.set(id, data);
      const stored = await h.peek(admin, app, tokenOf(id));
      for (const [key, value] of Object.entries(stored.d)) {
        assert.equal(typeof value, "string", key);
        assert.equal(value, JSON.stringify(data[key]));
      }
      assert.deepEqual(Object.keys(stored.d), Object.keys(data));
      const back = await store.get(id);
      assert.deepEqual(back, JSON.parse(JSON.stringify(data)));
      assert.equal(stored.id, "bob");
    });

    it("always gives a cookie back, also for sessions written by others", async function () {
      const token = tokenOf("written-elsewhere");
      await admin.sendCommand(["SESS.CREATE", app, "x", "1.1.1.1", "DATA", '{"n":5,"s":"not json","t":"\\"ok\\""}', "TOKEN", token]);
      const s = await store.get("written-elsewhere");
      assert.deepEqual(s, { n: 5, s: "not json", t: "ok", cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: "/" } });
      s.t = "changed";
      await store.set("written-elsewhere", s);
      const d = (await h.peek(admin, app, token)).d;
      assert.equal(d.n, "5");
      assert.equal(d.s, '"not json"');
      assert.equal(d.t, '"changed"');
      await admin.sendCommand(["SESS.SET", app, token, '{"b":true}']);
      const again = await store.get("written-elsewhere");
      assert.equal(again.b, true);
      delete again.b;
      await store.set("written-elsewhere", again);
      assert.ok(!("b" in (await h.peek(admin, app, token)).d));
    });

    it("sends only the keys that changed, removed keys as null", async function () {
      const id = sid();
      await store.set(id, { cookie: cookie(), a: 1, b: { x: 1 }, c: "keep" });
      const s = await store.get(id);
      const sent = h.recordCommands(store);
      s.a = 2;
      delete s.b;
      s.d = [1];
      await store.set(id, s);
      assert.equal(sent.length, 1);
      assert.equal(sent[0][0], "SESS.SET");
      assert.deepEqual(JSON.parse(sent[0][3]), { a: "2", d: "[1]", b: null });
      assert.ok(!sent[0].includes("TTL"), "same ttl: no TTL option");
      // Saved: the next save of the same object sends nothing new.
      await store.set(id, s);
      assert.equal(sent.length, 1);
      assert.deepEqual(await store.get(id), JSON.parse(JSON.stringify(s)));
    });

    it("merges concurrent saves of different keys", async function () {
      const id = sid();
      await store.set(id, { cookie: cookie(), cart: [], theme: "light", n: 0 });
      const first = await store.get(id);
      const second = await store.get(id);
      first.cart = ["apple"];
      second.theme = "dark";
      delete second.n;
      await Promise.all([store.set(id, first), store.set(id, second)]);
      const merged = await store.get(id);
      assert.deepEqual(merged.cart, ["apple"]);
      assert.equal(merged.theme, "dark");
      assert.ok(!("n" in merged));
    });

    it("derives the ttl from the cookie, the option or a function, clamped to the module's range", async function () {
      const cases = [
        [{ cookie: cookie(3600 * 1000) }, {}, 3600],
        [{ cookie: { originalMaxAge: null, expires: null } }, {}, 86400],
        [{ cookie: { originalMaxAge: null, expires: null } }, { ttl: 600 }, 600],
        [{ cookie: cookie(3000) }, {}, 10],
        [{ cookie: cookie(5 * 365 * 86400 * 1000) }, {}, 31536000],
        [{ cookie: cookie(), t: 77 }, { ttl: (s) => s.t }, 77],
        [{ cookie: cookie(1500) }, { ttl: 1000 }, 10],
        [{ cookie: { expires: "not a date" } }, { ttl: 900 }, 900],
      ];
      for (const [data, options, ttl] of cases) {
        const s = new SessStore({ client, app, ...options });
        const id = sid();
        await s.set(id, data);
        assert.equal((await h.peek(admin, app, tokenOf(id))).ttl, ttl, JSON.stringify([data, ttl]));
      }
    });

    it("removes a session whose expiry is past, and does not create one", async function () {
      const id = sid();
      await store.set(id, { cookie: cookie(), a: 1 });
      const s = await store.get(id);
      s.cookie.expires = new Date(Date.now() - 1000).toISOString();
      await store.set(id, s);
      assert.equal(await store.get(id), null);
      const other = sid();
      await store.set(other, { cookie: { expires: new Date(Date.now() - 5000) }, a: 1 });
      assert.equal(await store.get(other), null);
      await store.set(other, { cookie: cookie(), a: 1 }, () => {});
    });

    it("changes the ttl in the same SET when it changed", async function () {
      const id = sid();
      await store.set(id, { cookie: cookie(3600000), a: 1 });
      const s = await store.get(id);
      const sent = h.recordCommands(store);
      s.cookie = cookie(120000);
      await store.set(id, s);
      assert.deepEqual(sent[0].slice(0, 3), ["SESS.SET", app, tokenOf(id)]);
      assert.deepEqual(sent[0].slice(4), ["TTL", "120", "JSON"]);
      assert.equal((await h.peek(admin, app, tokenOf(id))).ttl, 120);
    });

    it("touches without a round trip when the ttl is unchanged, else sets the cookie with TTL", async function () {
      const id = sid();
      await store.set(id, { cookie: cookie(3600000), a: 1 });
      const s = await store.get(id);
      const sent = h.recordCommands(store);
      s.cookie = cookie(3600000);
      await store.touch(id, s);
      assert.deepEqual(sent, []);
      await new Promise((resolve, reject) => store.touch(id, s, (e) => (e ? reject(e) : resolve())));
      assert.deepEqual(sent, []);
      s.cookie = cookie(600000);
      await store.touch(id, s);
      assert.equal(sent.length, 1);
      assert.deepEqual(JSON.parse(sent[0][3]), { cookie: JSON.stringify(s.cookie) });
      assert.deepEqual(sent[0].slice(4), ["TTL", "600", "JSON"]);
      const stored = await h.peek(admin, app, tokenOf(id));
      assert.equal(stored.ttl, 600);
      assert.equal(stored.d.a, "1");
      await store.touch(id, s);
      assert.equal(sent.length, 1, "the snapshot knows the new ttl");
    });

    it("with disableTouch reads without sliding the expiry and never touches", async function () {
      const s2 = new SessStore({ client, app, disableTouch: true });
      const id = sid();
      await s2.set(id, { cookie: cookie(), a: 1 });
      const sent = h.recordCommands(s2);
      const loaded = await s2.get(id);
      assert.equal(sent[0][0], "SESS.PEEK");
      loaded.cookie = cookie(60000);
      await s2.touch(id, loaded);
      assert.equal(sent.length, 1);
      const stored = await h.peek(admin, app, tokenOf(id));
      assert.equal(stored.r, 1, "no read counted");
    });

    it("files sessions under passport.user, then userId, each anonymous one under its own id", async function () {
      const ids = [sid(), sid(), sid(), sid(), sid()];
      await store.set(ids[0], { cookie: cookie(), passport: { user: "alice" } });
      await store.set(ids[1], { cookie: cookie(), userId: 42 });
      await store.set(ids[2], { cookie: cookie(), passport: {}, userId: "carol" });
      await store.set(ids[3], { cookie: cookie() });
      await store.set(ids[4], { cookie: cookie(), passport: {} });
      assert.equal((await h.peek(admin, app, tokenOf(ids[0]))).id, "alice");
      assert.equal((await h.peek(admin, app, tokenOf(ids[1]))).id, "42");
      assert.equal((await h.peek(admin, app, tokenOf(ids[2]))).id, "carol");
      const anon = [(await h.peek(admin, app, tokenOf(ids[3]))).id, (await h.peek(admin, app, tokenOf(ids[4]))).id];
      assert.equal(anon[0], `anon:${tokenOf(ids[3]).slice(0, 22)}`);
      assert.equal(anon[1], `anon:${tokenOf(ids[4]).slice(0, 22)}`);
      assert.equal(Number(await admin.sendCommand(["SESS.ACTIVITY", app, "60"])), 5);
      const custom = new SessStore({ client, app, userId: (s) => s.account && s.account.id });
      const id = sid();
      await custom.set(id, { cookie: cookie(), account: { id: { org: 1, u: 2 } } });
      assert.equal((await h.peek(admin, app, tokenOf(id))).id, '{"org":1,"u":2}');
      await assert.rejects(store.set(sid(), { cookie: cookie(), userId: "x".repeat(129) }), /id rule/);
      await assert.rejects(store.set(sid(), { cookie: cookie(), userId: "a\nb" }), /id rule/);
    });

    it("moves a session to its new user with ASSIGN in the same step as the SET, keeping the session", async function () {
      const id = sid();
      await store.set(id, { cookie: cookie(), cart: [1] });
      let s = await store.get(id);
      const sent = h.recordCommands(store);
      s.passport = { user: "dave" };
      await store.set(id, s);
      assert.deepEqual(sent.map((a) => a[0]), ["MULTI", "SESS.SET", "SESS.ASSIGN"]);
      assert.deepEqual(sent[2], ["SESS.ASSIGN", app, tokenOf(id), "dave"]);
      const [entry] = await store.sessionsOf("dave");
      assert.equal(entry.handle, tokenOf(id));
      assert.deepEqual(entry.data.cart, [1]);
      // Log out without regenerate: back to its own anonymous id.
      s = await store.get(id);
      s.passport = {};
      sent.length = 0;
      await store.set(id, s);
      assert.deepEqual(await store.sessionsOf("dave"), []);
      assert.equal((await h.peek(admin, app, tokenOf(id))).id, `anon:${tokenOf(id).slice(0, 22)}`);
      // Only the user changed: ASSIGN alone.
      s.passport = { user: "dave" };
      const snapshot = s[SNAPSHOT];
      s[SNAPSHOT].values.passport = JSON.stringify(s.passport); // as if another request saved the key
      sent.length = 0;
      await store.set(id, s);
      assert.deepEqual(sent, [["SESS.ASSIGN", app, tokenOf(id), "dave"]]);
      assert.equal(s[SNAPSHOT].user, "dave");
      assert.notEqual(s[SNAPSHOT], snapshot);
    });

    it("never brings back a session that was killed or expired after it was loaded", async function () {
      const id = sid();
      await store.set(id, { cookie: cookie(), passport: { user: "erin" } });
      const s = await store.get(id);
      assert.equal(await store.destroyUser("erin"), 1);
      s.cart = ["x"];
      await store.set(id, s);
      s.passport = {};
      await store.set(id, s);
      s.cookie = cookie(60000);
      await store.touch(id, s);
      assert.equal(await store.get(id), null);
      assert.deepEqual(await h.soapp(admin, app), []);
    });

    it("saves over a live session it did not load (token in use) with the whole data, user and ttl", async function () {
      const id = sid();
      await store.set(id, { cookie: cookie(), a: 1, b: 2, userId: "fay" });
      const sent = h.recordCommands(store);
      // A plain object (as @fastify/session passes): overwritten first.
      await store.set(id, { cookie: cookie(600000), a: 3, userId: "gus" });
      assert.deepEqual(sent.map((a) => a[0]), ["MULTI", "SESS.SET", "SESS.ASSIGN", "SESS.SET"]);
      const stored = await h.peek(admin, app, tokenOf(id));
      assert.equal(stored.id, "gus");
      assert.equal(stored.ttl, 600);
      assert.deepEqual(Object.keys(stored.d).sort(), ["a", "cookie", "userId"]);
      assert.equal(stored.d.a, "3");
      assert.equal((await store.sessionsOf("fay")).length, 0);
      // An express-session Session (it has its request): created first.
      const session = { cookie: cookie(), b: 4 };
      Object.defineProperty(session, "req", { value: { ip: "10.1.1.1" } });
      sent.length = 0;
      await store.set(id, session);
      assert.deepEqual(sent.map((a) => a[0]), ["SESS.CREATE", "MULTI", "SESS.SET", "SESS.ASSIGN", "SESS.SET"]);
      assert.deepEqual(await store.get(id), JSON.parse(JSON.stringify(session)));
      // Either way a new token is created.
      const fresh = sid();
      sent.length = 0;
      await store.set(fresh, { cookie: cookie() });
      assert.deepEqual(sent.map((a) => a[0]), ["MULTI", "SESS.SET", "SESS.ASSIGN", "SESS.CREATE"]);
      assert.notEqual(await store.get(fresh), null);
    });

    it("creates with CREATE ... TOKEN and the options MAXAGE and MAXSESSIONS", async function () {
      const capped = new SessStore({ client, app, absoluteTimeout: 3600, maxSessionsPerUser: 2 });
      const sent = h.recordCommands(capped);
      const ids = [sid(), sid(), sid()];
      for (const id of ids) {
        await capped.set(id, { cookie: cookie(), userId: "hal" });
      }
      const create = sent.find((a) => a[0] === "SESS.CREATE");
      assert.deepEqual(create.slice(0, 3), ["SESS.CREATE", app, "hal"]);
      assert.equal(create[create.indexOf("TOKEN") + 1], tokenOf(ids[0]));
      assert.equal(create[create.indexOf("MAXAGE") + 1], "3600");
      assert.equal(create[create.indexOf("MAXSESSIONS") + 1], "2");
      assert.ok(!create.some((a) => String(a).includes(ids[0])), "the sid is never sent");
      const list = await capped.sessionsOf("hal");
      assert.equal(list.length, 2);
      assert.ok(list.every((e) => e.maxage > 3500 && e.maxage <= 3600));
      // Created within one second: which older one goes is decided by token
      // order (the module's tie rule); the newest always stays.
      assert.notEqual(await capped.get(ids[2]), null);
      const left = [await capped.get(ids[0]), await capped.get(ids[1])].filter((x) => x !== null);
      assert.equal(left.length, 1);
    });

    it("caps a login that keeps its session as it caps a created one (ASSIGN ... MAXSESSIONS)", async function () {
      const capped = new SessStore({ client, app, maxSessionsPerUser: 1 });
      const sent = h.recordCommands(capped);
      const before = sid();
      await capped.set(before, { cookie: cookie(), userId: "ida" });
      const visitor = sid();
      await capped.set(visitor, { cookie: cookie() });
      // The visitor's session, saved again with a user and no regenerate.
      await capped.set(visitor, { cookie: cookie(), userId: "ida" });
      const assign = sent.find((a) => a[0] === "SESS.ASSIGN");
      assert.deepEqual(assign.slice(3), ["ida", "MAXSESSIONS", "1"]);
      assert.equal(await capped.get(before), null);
      assert.notEqual(await capped.get(visitor), null);
      assert.deepEqual((await capped.sessionsOf("ida")).map((e) => e.handle), [capped.handleOf(visitor)]);
    });

    it("takes the ip from the request, within the module's rule", async function () {
      const fake = (req) => {
        const s = { cookie: cookie() };
        Object.defineProperty(s, "req", { value: req });
        return s;
      };
      const cases = [
        [fake({ ip: "203.0.113.9" }), "203.0.113.9"],
        [fake({ socket: { remoteAddress: "::ffff:10.0.0.1" } }), "::ffff:10.0.0.1"],
        [fake({ ip: `a\u0000b\nc${"x".repeat(60)}` }), `abc${"x".repeat(36)}`],
        [fake({ ip: "é".repeat(30) }), "é".repeat(19)],
        [{ cookie: cookie() }, "unknown"],
      ];
      for (const [session, ip] of cases) {
        const id = sid();
        await store.set(id, session);
        assert.equal((await h.peek(admin, app, tokenOf(id))).ip, ip);
      }
      const custom = new SessStore({ client, app, ip: (s) => s.clientIp });
      const id = sid();
      await custom.set(id, { cookie: cookie(), clientIp: "198.51.100.7" });
      assert.equal((await h.peek(admin, app, tokenOf(id))).ip, "198.51.100.7");
    });

    it("lists, counts and clears the app's sessions", async function () {
      for (let i = 0; i < 3; i++) await store.set(sid(), { cookie: cookie(), n: i });
      assert.equal(await store.length(), 3);
      const all = await store.all();
      assert.deepEqual(all.map((s) => s.n).sort(), [0, 1, 2]);
      assert.ok(all.every((s) => s.cookie && s.cookie.originalMaxAge === 3600000));
      await new Promise((resolve, reject) => store.length((e, n) => (e || n !== 3 ? reject(e || n) : resolve())));
      await store.clear();
      assert.equal(await store.length(), 0);
      assert.deepEqual(await store.all(), []);
    });

    it("lists a user's sessions, most recent first, and destroys them by user, except one, or by handle", async function () {
      const ids = [sid(), sid(), sid()];
      for (const id of ids) {
        await store.set(id, { cookie: cookie(), passport: { user: "ivy" }, n: id });
        await h.sleep(1100);
      }
      await store.set(sid(), { cookie: cookie(), passport: { user: "jon" } });
      const list = await store.sessionsOf("ivy");
      assert.deepEqual(list.map((e) => e.handle), ids.map(tokenOf).reverse());
      assert.deepEqual(Object.keys(list[0]), ["handle", "ip", "idle", "ttl", "reads", "writes", "data"]);
      assert.equal(list[0].data.n, ids[2]);
      assert.equal(list[0].ttl, 3600);
      assert.equal(list[0].reads, 1);
      assert.equal(list[0].writes, 1);
      assert.equal(store.handleOf(ids[0]), tokenOf(ids[0]));
      assert.equal(await store.destroyUser("ivy", { except: ids[1] }), 2);
      assert.deepEqual((await store.sessionsOf("ivy")).map((e) => e.handle), [tokenOf(ids[1])]);
      assert.equal(await store.destroyHandle(tokenOf(ids[1])), true);
      assert.equal(await store.destroyHandle(tokenOf(ids[1])), false);
      await assert.rejects(store.destroyHandle("short"), /handle/);
      await assert.rejects(store.destroyHandle(ids[0]), /handle/);
      assert.equal(await store.activity(60), 1, "ivy's sessions are all killed: only jon counts");
      await assert.rejects(store.activity(5), /seconds/);
      assert.equal(await store.destroyUser("jon"), 1);
      assert.equal(await store.destroyUser(7), 0);
      await assert.rejects(store.sessionsOf(undefined), /user id/);
    });

    it("takes callbacks as well as promises, and hands errors to both", async function () {
      const id = sid();
      await new Promise((resolve, reject) => store.set(id, { cookie: cookie(), a: 1 }, (e) => (e ? reject(e) : resolve())));
      const s = await new Promise((resolve, reject) => store.get(id, (e, v) => (e ? reject(e) : resolve(v))));
      assert.equal(s.a, 1);
      const huge = { cookie: cookie(), blob: "x".repeat(70000) };
      await assert.rejects(store.set(sid(), huge), /max-data-bytes|exceed/);
      const error = await new Promise((resolve) => store.set(sid(), huge, resolve));
      assert.match(String(error && error.message), /max-data-bytes|exceed/);
      await h.noUnhandledRejection(async () => {
        const returned = store.set(sid(), huge, () => {});
        assert.equal(await returned, undefined, "with a callback the promise resolves");
        store.get(123, () => {});
        store.set("", {}, () => {});
      });
      assert.equal(await new Promise((resolve) => store.destroyUser("nobody", (e, n) => resolve(n))), 0);
    });

    it("uses a custom serializer for each value", async function () {
      const serializer = {
        stringify: (v) => `~${JSON.stringify(v)}`,
        parse: async (text) => JSON.parse(text.slice(1)),
      };
      const s = new SessStore({ client, app, serializer });
      const id = sid();
      await s.set(id, { cookie: cookie(), a: { b: 1 } });
      assert.equal((await h.peek(admin, app, tokenOf(id))).d.a, '~{"b":1}');
      assert.deepEqual((await s.get(id)).a, { b: 1 });
    });
  });
}
