// What the client adds to the library's suite (library-suite.test.js):
// callbacks, the order in which errors are reported, the module's stricter
// checks as library errors, and the behaviours docs/clients.md ("The Node
// client") lists as kept or fixed.
"use strict";

const should = require("should");
const RedisSessions = require("../index");

const port = Number(process.env.SESS_TEST_PORT || 6379);
const app = "clientapp";

async function rejects(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("redis-sessions-module", function () {
  let rs;
  before(function () {
    rs = new RedisSessions({ port });
  });
  after(async function () {
    await rs.killall({ app });
    await rs.quit();
  });

  it("takes Node callbacks as well as promises", function (done) {
    rs.create({ app, id: "cb", ip: "10.0.0.1" }, (error, created) => {
      should.not.exist(error);
      created.token.should.have.length(64);
      rs.get({ app, token: created.token }, (error2, session) => {
        should.not.exist(error2);
        session.should.eql({ id: "cb", r: 1, w: 1, ttl: 7200, idle: 0, ip: "10.0.0.1" });
        rs.get({ app: "x" }, (error3, nothing) => {
          error3.name.should.equal("invalidFormat");
          error3.message.should.equal("Invalid app format");
          should.not.exist(nothing);
          done();
        });
      });
    });
  });

  it("reports the first invalid item in the library's order", async function () {
    const cases = [
      [rs.create({}), "missingParameter", "No app supplied"],
      [rs.create({ app: "a", id: "" }), "invalidFormat", "Invalid app format"],
      [rs.create({ app }), "missingParameter", "No id supplied"],
      [rs.create({ app, id: "x\ny", ip: "" }), "invalidFormat", "Invalid id format"],
      [rs.create({ app, id: "u", ttl: 5 }), "missingParameter", "No ip supplied"],
      [rs.create({ app, id: "u", ip: "1.2.3.4", ttl: 5, d: [] }), "invalidValue", "ttl must be a positive integer >= 10"],
      [rs.create({ app, id: "u", ip: "1.2.3.4", d: { a: [1] } }), "invalidValue", "d.a has a forbidden type. Only strings, numbers, boolean and null are allowed."],
      [rs.set({ app, token: "x".repeat(64) }), "missingParameter", "No d supplied"],
      [rs.set({ app, d: {} }), "missingParameter", "No token supplied"],
      [rs.set({ app, token: "x".repeat(64), d: {} }), "invalidValue", "d must containt at least one key."],
      [rs.soapp({ app, deltaTime: 5 }), "invalidValue", "deltaTime must be a positive integer >= 10"],
      [rs.activity({ app }), "invalidValue", "deltaTime must be a positive integer >= 10"],
      [rs.soid({ app }), "missingParameter", "No id supplied"],
      [rs.killsoid({ app: "bad app" }), "invalidFormat", "Invalid app format"],
      [rs.killall({}), "missingParameter", "No app supplied"],
    ];
    for (const [promise, name, message] of cases) {
      const error = await rejects(promise);
      [error.name, error.message].should.eql([name, message]);
    }
  });

  it("fails exactly like redis-sessions 4.0.0 itself on every invalid call", async function () {
    const Library = require("redis-sessions").default;
    const library = new Library({ port, wipe: 0 });
    const token = "x".repeat(64);
    const calls = [
      (s) => s.create({}), (s) => s.create({ app: "a", id: "" }), (s) => s.create({ app }),
      (s) => s.create({ app, id: "x\ny", ip: "" }), (s) => s.create({ app, id: "u", ttl: 5 }),
      (s) => s.create({ app, id: "u", ip: "1".repeat(40) }),
      (s) => s.create({ app, id: "u", ip: "1.2.3.4", ttl: "abc" }),
      (s) => s.create({ app, id: "u", ip: "1.2.3.4", d: "str" }),
      (s) => s.create({ app, id: "u", ip: "1.2.3.4", d: { a: { b: 1 } } }),
      (s) => s.get({}), (s) => s.get({ app }), (s) => s.get({ app, token: 5 }), (s) => s.get({ app, token: "!" + token.slice(1) }),
      (s) => s.kill({ app: "ab" }), (s) => s.kill({ app }),
      (s) => s.set({ app, token }), (s) => s.set({ app, token, d: [1] }), (s) => s.set({ app, token, d: {} }),
      (s) => s.set({ app, token, d: { k: [] } }), (s) => s.set({ token, d: { a: 1 } }),
      (s) => s.soid({ app }), (s) => s.soid({ id: "u" }), (s) => s.killsoid({ app, id: "" }),
      (s) => s.soapp({ app }), (s) => s.soapp({ app, deltaTime: "x" }), (s) => s.activity({ app, deltaTime: 9 }),
      (s) => s.killall({ app: "a-b-c-d-e-f-g-h-i-j-k" }),
    ];
    for (const call of calls) {
      const expected = await rejects(call(library));
      const actual = await rejects(call(rs));
      [actual.name, actual.message].should.eql([expected.name, expected.message], call.toString());
    }
    await library.quit();
  });

  it("turns the module's stricter checks into the library's errors", async function () {
    const long = await rejects(rs.create({ app, id: "i".repeat(200), ip: "10.0.0.1" }));
    [long.name, long.message].should.eql(["invalidFormat", "Invalid id format"]);
    const ttl = await rejects(rs.create({ app, id: "u", ip: "10.0.0.1", ttl: 10 ** 9 }));
    ttl.name.should.equal("invalidValue");
    ttl.message.should.startWith("invalid ttl");
  });

  it("keeps the library's objects: no_resave true, d parsed, null for nothing", async function () {
    const { token } = await rs.create({ app, id: "nr", ip: "10.0.0.2", ttl: 60, no_resave: true, d: { a: 1, gone: null } });
    const session = await rs.get({ app, token });
    session.should.eql({ id: "nr", r: 1, w: 1, ttl: 60, idle: 0, ip: "10.0.0.2", no_resave: true, d: { a: 1 } });
    // Fixed on purpose: the library answers w 0 here.
    const set = await rs.set({ app, token, d: { b: "x", a: null } });
    set.w.should.equal(2);
    set.d.should.eql({ b: "x" });
    (await rs.get({ app, token: "A".repeat(64) }) === null).should.be.true();
    (await rs.set({ app, token: "A".repeat(64), d: { a: 1 } }) === null).should.be.true();
    (await rs.kill({ app, token: "A".repeat(64) })).should.eql({ kill: 0 });
  });

  it("lists a user's sessions as the library's objects, most recent first", async function () {
    const first = await rs.create({ app, id: "lister", ip: "10.0.0.3" });
    await rs.create({ app, id: "lister", ip: "10.0.0.4" });
    const { sessions } = await rs.soid({ app, id: "lister" });
    sessions.should.have.length(2);
    Object.keys(sessions[0]).should.eql(["id", "r", "w", "ttl", "idle", "ip"]);
    (await rs.killsoid({ app, id: "lister" })).should.eql({ kill: 2 });
    (await rs.get({ app, token: first.token }) === null).should.be.true();
  });

  it("answers ping and takes an existing node-redis client", async function () {
    (await rs.ping()).should.equal("PONG");
    const { createClient } = require("redis");
    const client = createClient({ socket: { port } });
    await client.connect();
    const shared = new RedisSessions({ client });
    const { token } = await shared.create({ app, id: "shared", ip: "10.0.0.5" });
    (await shared.get({ app, token })).id.should.equal("shared");
    await shared.quit();
    client.isOpen.should.be.true(); // the caller's client stays the caller's
    await client.quit();
  });
});
