// What an anonymous session costs in Redis memory (MEMORY USAGE of the keys
// that exist for it), compared with a session of a signed-in user. The
// figures are printed; the README quotes them.
"use strict";

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { SessStore, tokenOf } = require("../index");
const h = require("./helpers");

const N = 300;

async function usage(admin, key) {
  const n = await admin.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"]);
  return n === null ? 0 : Number(n);
}

// express-session's cookie for `cookie: { maxAge: 86400000 }`.
function cookie() {
  return { originalMaxAge: 86400000, expires: new Date(Date.now() + 86400000).toISOString(), httpOnly: true, path: "/" };
}

// Creates N sessions (anonymous, or signed in 10 per user) in a fresh app (no
// kill ever recorded, so no `epoch` field) and returns the bytes each adds.
async function measure(client, admin, app, signedIn) {
  const store = new SessStore({ client, app });
  const indexes = [`rs:{${app}}:_users`, `rs:{${app}}:_expiry`];
  const userOf = (i) => (signedIn ? { passport: { user: `user${i % (N / 10)}` } } : {});
  // One session first, so the app's index keys exist and only grow.
  await store.set(crypto.randomBytes(18).toString("base64url"), { cookie: cookie(), ...userOf(0) });
  const before = await Promise.all(indexes.map((k) => usage(admin, k)));
  const tokens = [];
  for (let i = 0; i < N; i++) {
    const sid = crypto.randomBytes(18).toString("base64url");
    tokens.push(tokenOf(sid));
    await store.set(sid, { cookie: cookie(), ...userOf(i) });
  }
  const after = await Promise.all(indexes.map((k) => usage(admin, k)));
  let hashes = 0;
  let userIndexes = 0;
  for (const token of tokens) {
    hashes += await usage(admin, `rs:{${app}}:${token}`);
    if (!signedIn) {
      const keys = await admin.sendCommand(["KEYS", `rs:{${app}}:*${token.slice(0, 22)}*`]);
      assert.equal(keys.length, 2, "a session hash and its user's index");
      userIndexes += await usage(admin, `rs:{${app}}:us:anon:${token.slice(0, 22)}`);
    }
  }
  if (signedIn) for (let u = 0; u < N / 10; u++) userIndexes += await usage(admin, `rs:{${app}}:us:user${u}`);
  const encoding = await admin.sendCommand(["OBJECT", "ENCODING", `rs:{${app}}:${tokens[0]}`]);
  const cost = {
    hash: hashes / N,
    userIndex: userIndexes / N,
    users: (after[0] - before[0]) / N,
    expiry: (after[1] - before[1]) / N,
  };
  cost.total = cost.hash + cost.userIndex + cost.users + cost.expiry;
  await admin.sendCommand(["SESS.KILLALL", app]);
  return { encoding, cost };
}

const round = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));

describe("memory per anonymous session", function () {
  let client;
  let admin;
  let listpackValue;
  before(async function () {
    client = await h.nodeRedis(4);
    admin = await h.admin();
    listpackValue = (await admin.sendCommand(["CONFIG", "GET", "hash-max-listpack-value"]))[1];
  });
  after(async function () {
    await admin.sendCommand(["CONFIG", "SET", "hash-max-listpack-value", listpackValue]);
    await h.close(client);
    await h.close(admin);
  });

  it("is its hash, its own user index and one entry in each of two app indexes", async function () {
    const tag = crypto.randomBytes(3).toString("hex");
    const results = [];
    for (const value of ["64", "256"]) {
      await admin.sendCommand(["CONFIG", "SET", "hash-max-listpack-value", value]);
      const anonymous = await measure(client, admin, `ma${value}${tag}`, false);
      const signedIn = await measure(client, admin, `ms${value}${tag}`, true);
      console.log(
        `      hash-max-listpack-value ${value}: anonymous ${JSON.stringify(round(anonymous.cost))} (${anonymous.encoding}); ` +
          `signed in, 10 per user ${JSON.stringify(round(signedIn.cost))}`,
      );
      results.push({ value, anonymous, signedIn });
      assert.ok(anonymous.cost.total > 200 && anonymous.cost.total < 1500, `${anonymous.cost.total}`);
      assert.ok(anonymous.cost.total > signedIn.cost.total);
    }
    assert.equal(results[0].anonymous.encoding, "hashtable", "express-session's cookie alone is over 64 bytes");
    assert.equal(results[1].anonymous.encoding, "listpack");
    assert.ok(results[1].anonymous.cost.total < results[0].anonymous.cost.total);
  });

  it("counts each anonymous session as one user in activity", async function () {
    const app = `mact${crypto.randomBytes(3).toString("hex")}`;
    const store = new SessStore({ client, app });
    for (let i = 0; i < 5; i++) await store.set(crypto.randomBytes(18).toString("base64url"), { cookie: cookie() });
    await store.set("signed-1", { cookie: cookie(), passport: { user: "one" } });
    await store.set("signed-2", { cookie: cookie(), passport: { user: "one" } });
    assert.equal(await store.activity(60), 6);
    await store.clear();
  });
});
