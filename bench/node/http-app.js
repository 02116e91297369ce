// The express app of `make bench-http`, run by http.js in a process of its
// own (child_process.fork; on two or more cores it inherits http.js's core,
// the clients' core). One app, three session stores:
//   SESS_HTTP_STORE=memory         express-session's MemoryStore (the upper bound)
//   SESS_HTTP_STORE=connect-redis  connect-redis on node-redis 5
//   SESS_HTTP_STORE=sess           sess-express-store (clients/express) on node-redis 5
// SESS_HTTP_PORT is the port to listen on (127.0.0.1), SESS_HTTP_REDIS_PORT
// the redis-server's. Tells the parent {ready: port} once it listens, and
// stops when the parent sends "stop".
//
//   POST /login?user=ID  a new session (regenerated, as a login should) with
//                        the user and a few fields: the only way to get one
//   GET  /               reads the session and adds one to its counter, so
//                        every request saves the session (401 without one)
"use strict";

const express = require("express");
const session = require("express-session");

const STORE = process.env.SESS_HTTP_STORE;
const PORT = Number(process.env.SESS_HTTP_PORT);
const REDIS_PORT = Number(process.env.SESS_HTTP_REDIS_PORT);
const SESS_APP = "httpbench";

async function makeStore() {
  if (STORE === "memory") return { store: new session.MemoryStore(), close: async () => {} };
  const { createClient } = require("redis5");
  const client = createClient({ socket: { host: "127.0.0.1", port: REDIS_PORT } });
  client.on("error", (error) => console.error(`http-app (${STORE}): redis: ${error.message}`));
  await client.connect();
  const close = () => client.close();
  if (STORE === "connect-redis") {
    // connect-redis 11 is an ES module only.
    const { RedisStore } = await import("connect-redis");
    return { store: new RedisStore({ client, prefix: "sess:" }), close };
  }
  if (STORE === "sess") {
    const { SessStore } = require("sess-express-store");
    return { store: new SessStore({ client, app: SESS_APP }), close };
  }
  throw new Error(`http-app: unknown SESS_HTTP_STORE ${JSON.stringify(STORE)}`);
}

async function main() {
  const { store, close } = await makeStore();
  const app = express();
  app.set("etag", false);
  app.use(
    session({
      store,
      secret: "make bench-http",
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 86400000, sameSite: "lax" },
    }),
  );
  app.post("/login", (req, res, next) => {
    const user = String(req.query.user || "");
    if (!user) return res.status(400).json({ error: "user needed" });
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.userId = user;
      req.session.name = "Ada Lovelace";
      req.session.role = "editor";
      req.session.views = 0;
      res.json({ user });
    });
  });
  app.get("/", (req, res) => {
    if (req.session.userId === undefined) return res.status(401).json({ error: "log in first" });
    req.session.views = (req.session.views || 0) + 1;
    res.json({ user: req.session.userId, views: req.session.views });
  });
  app.use((error, req, res, next) => {
    console.error(`http-app (${STORE}):`, error);
    if (res.headersSent) return next(error);
    res.status(500).json({ error: String(error && error.message) });
  });

  const server = app.listen(PORT, "127.0.0.1", () => process.send({ ready: PORT }));
  server.on("error", (error) => {
    console.error(`http-app (${STORE}): ${error.message}`);
    process.exit(1);
  });
  process.on("message", async (message) => {
    if (message !== "stop") return;
    server.closeAllConnections();
    server.close();
    await close().catch(() => {});
    process.exit(0);
  });
  // The parent gone (killed, crashed): never outlive it.
  process.on("disconnect", () => process.exit(0));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
