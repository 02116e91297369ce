// The client over a Redis Cluster: a cluster client from node-redis's
// createCluster, passed as `client`. Run by tests/node_client.rs against a
// three-node cluster (SESS_TEST_CLUSTER_PORT is one of its nodes).
"use strict";

const should = require("should");
const { createCluster } = require("redis");
const RedisSessions = require("../index");

const port = Number(process.env.SESS_TEST_CLUSTER_PORT);

describe("redis-sessions-module on a cluster", function () {
  let cluster;
  let rs;
  before(async function () {
    should(port).be.above(0, "SESS_TEST_CLUSTER_PORT names a cluster node");
    cluster = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
    await cluster.connect();
    rs = new RedisSessions({ client: cluster });
  });
  after(async function () {
    await rs.quit();
    await cluster.quit();
  });

  it("runs every method for apps spread over the nodes", async function () {
    (await rs.ping()).should.equal("PONG");
    for (let i = 0; i < 12; i++) {
      const app = `capp${i}`;
      const a = await rs.create({ app, id: "alice", ip: "10.0.0.1", d: { n: i } });
      const b = await rs.create({ app, id: "alice", ip: "10.0.0.2" });
      await rs.create({ app, id: "bob", ip: "10.0.0.3" });
      (await rs.get({ app, token: a.token })).d.should.eql({ n: i });
      (await rs.set({ app, token: b.token, d: { x: "y" } })).w.should.equal(2);
      (await rs.soid({ app, id: "alice" })).sessions.should.have.length(2);
      (await rs.soapp({ app, deltaTime: 60 })).sessions.should.have.length(3);
      (await rs.activity({ app, deltaTime: 60 })).should.eql({ activity: 2 });
      (await rs.kill({ app, token: a.token })).should.eql({ kill: 1 });
      (await rs.killsoid({ app, id: "alice" })).should.eql({ kill: 1 });
      (await rs.killall({ app })).should.eql({ kill: 1 });
    }
  });
});
