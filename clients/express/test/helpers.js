// Shared by the suites: the server's port, Redis clients of every kind, an
// HTTP client with a cookie jar, and the test applications.
"use strict";

const http = require("node:http");
const assert = require("node:assert/strict");

const port = Number(process.env.SESS_TEST_PORT || 27000);
const downPort = Number(process.env.SESS_TEST_DOWN_PORT || 0);
const clusterPort = Number(process.env.SESS_TEST_CLUSTER_PORT || 0);

async function nodeRedis(version, options = {}) {
  const { createClient } = require(`redis${version}`);
  const client = createClient({ url: `redis://127.0.0.1:${options.port || port}`, ...(options.client || {}) });
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function ioredis(options = {}) {
  const Redis = require("ioredis");
  const client = new Redis({ port: options.port || port, host: "127.0.0.1", lazyConnect: true, ...(options.client || {}) });
  client.on("error", () => {});
  await client.connect();
  return client;
}

// Every client the store is tested with, by name.
const clients = {
  "node-redis v4": (o) => nodeRedis(4, o),
  "node-redis v5": (o) => nodeRedis(5, o),
  "node-redis v6": (o) => nodeRedis(6, o),
  ioredis: (o) => ioredis(o),
};

async function close(client) {
  if (!client) return;
  try {
    if ("isCluster" in client && typeof client.call === "function") client.disconnect();
    else if (typeof client.destroy === "function") client.destroy();
    else await client.disconnect();
  } catch {
    // already closed
  }
}

// A plain node-redis client for the tests' own checks.
async function admin(p = port) {
  return nodeRedis(4, { port: p });
}

// Wraps the store's Redis adapter so a test can see every command it sends.
function recordCommands(store) {
  const sent = [];
  const inner = store.redis;
  store.redis = {
    kind: inner.kind,
    send(args, readonly) {
      sent.push(args.slice());
      return inner.send(args, readonly);
    },
    transaction(list) {
      sent.push(["MULTI", ...list.map((a) => a[0])]);
      for (const args of list) sent.push(args.slice());
      return inner.transaction(list);
    },
  };
  return sent;
}

// A module session of the app, read without touching it.
async function peek(adminClient, app, token) {
  const reply = await adminClient.sendCommand(["SESS.PEEK", app, token, "JSON"]);
  return reply === null ? null : JSON.parse(reply);
}

async function soid(adminClient, app, id) {
  return (await adminClient.sendCommand(["SESS.SOID", app, id, "JSON"])).map((s) => JSON.parse(s));
}

async function soapp(adminClient, app) {
  return (await adminClient.sendCommand(["SESS.SOAPP", app, "31536000", "JSON"])).map((s) => JSON.parse(s));
}

// An HTTP client that keeps cookies, as a browser would.
class Agent {
  constructor(base) {
    this.base = base;
    this.jar = new Map();
  }

  async request(method, path, options = {}) {
    const headers = { ...(options.headers || {}) };
    if (this.jar.size > 0 && !headers.cookie) {
      headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
    }
    let body;
    if (options.form) {
      body = new URLSearchParams(options.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    const res = await fetch(this.base + path, { method, headers, body, redirect: "manual" });
    const setCookie = res.headers.getSetCookie();
    for (const line of setCookie) {
      const [pair, ...attributes] = line.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attributes.some((a) => {
        const [k, v] = a.split("=");
        if (k.toLowerCase() === "max-age") return Number(v) <= 0;
        if (k.toLowerCase() === "expires") return new Date(v).getTime() <= Date.now();
        return false;
      });
      if (expired || value === "") this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const raw = await res.text();
    let data = raw;
    try {
      data = JSON.parse(raw);
    } catch {
      // not JSON
    }
    return { status: res.status, body: data, setCookie };
  }

  get(path, options) {
    return this.request("GET", path, options);
  }

  post(path, form) {
    return this.request("POST", path, { form });
  }

  // The cookie's value as sent, and the session id inside it.
  cookie(name = "connect.sid") {
    return this.jar.get(name);
  }

  sid(name = "connect.sid") {
    const value = this.jar.get(name);
    if (!value) return undefined;
    const decoded = decodeURIComponent(value);
    const unsigned = decoded.startsWith("s:") ? decoded.slice(2) : decoded;
    return unsigned.slice(0, unsigned.lastIndexOf("."));
  }
}

// Serves a request listener on a free loopback port.
async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: p } = server.address();
  return {
    base: `http://127.0.0.1:${p}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// A barrier: `wait(name)` resolves once `count` callers have arrived.
function barrier(count) {
  let arrived = 0;
  let release;
  const all = new Promise((resolve) => {
    release = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived === count) release();
    return all;
  };
}

// Fails the test if a promise rejection goes unhandled while `fn` runs.
async function noUnhandledRejection(fn) {
  const seen = [];
  const listener = (reason) => seen.push(reason);
  process.on("unhandledRejection", listener);
  try {
    await fn();
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.off("unhandledRejection", listener);
  }
  assert.deepEqual(seen, [], "no unhandled rejection");
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = {
  port,
  downPort,
  clusterPort,
  clients,
  nodeRedis,
  ioredis,
  close,
  admin,
  recordCommands,
  peek,
  soid,
  soapp,
  Agent,
  listen,
  barrier,
  noUnhandledRejection,
  sleep,
};
