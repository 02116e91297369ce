// redis-sessions-module: the redis-sessions 4.0 API on the SESS.* commands of
// the Redis module. Change `require("redis-sessions")` to
// `require("redis-sessions-module")` and nothing else: same constructor
// options, same methods (promises, and callbacks as in versions before 4),
// same reply objects, same error names and messages, checked in the same
// order. Each call is one SESS.* command, atomic on the server; the expiry
// sweep runs in the server too, so `wipe` is accepted and ignored.
"use strict";

const { createClient } = require("redis");
const { LRUCache } = require("lru-cache");

// The library's own checks (redis-sessions 4.0, index.ts `VALID`). The id
// rule there is /^(.*?){1,128}$/, which only refuses line terminators (and
// is exponential on them); this is the same test without the regex.
const VALID = {
  app: (v) => /^([\w-]){3,20}$/.test(v),
  id: (v) => !/[\n\r\u2028\u2029]/.test(v),
  ip: (v) => /^.{1,39}$/.test(v),
  token: (v) => /^([\dA-Za-z]){64}$/.test(v),
};

function libraryError(name, data) {
  const error = new Error();
  error.name = name;
  if ("msg" in data) error.message = data.msg;
  else if (name === "missingParameter") error.message = `No ${data.item} supplied`;
  else error.message = `Invalid ${data.item} format`;
  return error;
}

// Throws the library's error for the first item of `items` that fails.
function validate(o, items) {
  for (const item of items) {
    switch (item) {
      case "app":
      case "id":
      case "ip":
      case "token": {
        const value = o[item];
        if (!value) throw libraryError("missingParameter", { item });
        if (!VALID[item](String(value))) throw libraryError("invalidFormat", { item });
        break;
      }
      case "ttl": {
        const ttl = Number.parseInt(o.ttl ? `${o.ttl}` : "7200", 10);
        if (Number.isNaN(ttl) || ttl < 10) {
          throw libraryError("invalidValue", { msg: "ttl must be a positive integer >= 10" });
        }
        break;
      }
      case "deltaTime": {
        const dt = Number.parseInt(`${o.deltaTime}`, 10);
        if (Number.isNaN(dt) || dt < 10) {
          throw libraryError("invalidValue", { msg: "deltaTime must be a positive integer >= 10" });
        }
        break;
      }
      case "d": {
        const d = o.d;
        if (!d) throw libraryError("missingParameter", { item });
        if (typeof d !== "object" || Array.isArray(d)) {
          throw libraryError("invalidValue", { msg: "d must be an object" });
        }
        if (Object.keys(d).length === 0) {
          throw libraryError("invalidValue", { msg: "d must containt at least one key." });
        }
        for (const key of Object.keys(d)) {
          const type = typeof d[key];
          if (d[key] !== null && type !== "string" && type !== "number" && type !== "boolean") {
            throw libraryError("invalidValue", {
              msg: `d.${key} has a forbidden type. Only strings, numbers, boolean and null are allowed.`,
            });
          }
        }
        break;
      }
      default:
        break;
    }
  }
}

// The module checks what the library lets through (an id over 128 bytes, a
// ttl over a year): its `ERR invalid <item>: ...` becomes the library's kind
// of error.
function moduleError(error) {
  const match = /^(?:ERR )?invalid (app|id|ip|token|ttl|dt|json)\b(.*)$/i.exec(error && error.message);
  if (!match) return error;
  const item = match[1].toLowerCase();
  if (item === "ttl" || item === "dt" || item === "json") {
    return libraryError("invalidValue", { msg: error.message.replace(/^ERR /, "") });
  }
  return libraryError("invalidFormat", { item });
}

// A session of the module as the library's object: id, r, w, ttl, idle, ip,
// then no_resave and d only when set. The client asks for the compact reply
// (the JSON option: one JSON text, parsed at once, where a map costs node-redis
// a step per element); a map (flat field/value list over RESP2, an object
// over RESP3) is read too.
function sessionObject(reply) {
  if (reply === null || reply === undefined) return null;
  let fields;
  if (typeof reply === "string" || Buffer.isBuffer(reply)) fields = JSON.parse(String(reply));
  else fields = Array.isArray(reply) ? pairs(reply) : reply;
  const session = {
    id: String(fields.id),
    r: Number(fields.r),
    w: Number(fields.w),
    ttl: Number(fields.ttl),
    idle: Number(fields.idle),
    ip: String(fields.ip),
  };
  if (fields.no_resave !== undefined) session.no_resave = true;
  if (fields.d !== undefined) session.d = typeof fields.d === "object" ? fields.d : JSON.parse(String(fields.d));
  return session;
}

function pairs(list) {
  const out = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = list[i + 1];
  return out;
}

// Keys whose value is null are dropped: the library stores what remains,
// and nothing when nothing does.
function withoutNulls(d) {
  const kept = {};
  for (const [key, value] of Object.entries(d)) if (value !== null) kept[key] = value;
  return kept;
}

// Promise and, when the last argument is a function, a Node callback.
function callbackable(method) {
  return function (options, callback) {
    const promise = method.call(this, options);
    if (typeof callback === "function") {
      promise.then((result) => callback(null, result), (error) => callback(error));
    }
    return promise;
  };
}

class RedisSessions {
  constructor(redisSessionsOptions) {
    const o = redisSessionsOptions || {};
    this.redisns = `${o.namespace ?? "rs"}:`;
    this.isCluster = false;
    if (o.client) {
      // An existing node-redis client, or a cluster from createCluster: its
      // sendCommand takes the routing key first.
      this.redis = o.client;
      this.isCluster = o.cluster === true || this.redis.sendCommand.length >= 3;
      this.ownsClient = false;
    } else if (o.options && o.options.url) {
      this.redis = createClient(o.options);
      this.ownsClient = true;
    } else {
      const socket = { port: o.port ?? 6379, host: o.host ?? "127.0.0.1" };
      const options = { ...(o.options ?? {}) };
      options.socket = { ...(options.socket ?? {}), ...socket };
      this.redis = createClient(options);
      this.ownsClient = true;
    }
    // Swallowed here as in the library: a failing call rejects anyway.
    if (this.ownsClient) this.redis.on("error", () => {});
    this.sessionCache = null;
    this.redissub = null;
    if (o.cachetime && o.cachetime > 0) {
      this.sessionCache = new LRUCache({
        max: o.cachemax ? (o.cachemax > 0 ? o.cachemax : 5000) : 5000,
        ttl: o.cachetime * 1000,
        updateAgeOnGet: false,
        ttlAutopurge: false,
      });
    }
    this.toConnect = this.connect();
    this.toConnect.catch(() => {});
  }

  async connect() {
    if (this.ownsClient && !this.redis.isOpen) await this.redis.connect();
    if (this.sessionCache && !this.redissub && !this.isCluster) {
      // Other instances announce sets and kills here, as the library does.
      this.redissub = this.redis.duplicate();
      this.redissub.on("error", () => {});
      await this.redissub.connect();
      await this.redissub.subscribe(`${this.redisns}cache`, (message) => this.forget(message));
    }
    return true;
  }

  forget(message) {
    if (!this.sessionCache) return;
    if (message.endsWith(":*")) {
      const app = message.slice(0, -1);
      for (const key of this.sessionCache.keys()) if (key.startsWith(app)) this.sessionCache.delete(key);
    } else {
      this.sessionCache.delete(message);
    }
  }

  async command(args, readonly = false) {
    await this.toConnect;
    try {
      if (this.isCluster) return await this.redis.sendCommand(args[1], readonly, args);
      return await this.redis.sendCommand(args);
    } catch (error) {
      throw moduleError(error);
    }
  }

  async announce(app, token) {
    if (!this.sessionCache) return;
    this.sessionCache.delete(`${app}:${token}`);
    await this.command(["PUBLISH", `${this.redisns}cache`, `${app}:${token}`]);
  }

  async activity(options) {
    validate(options, ["app", "deltaTime"]);
    const dt = String(Number.parseInt(`${options.deltaTime}`, 10));
    const n = await this.command(["SESS.ACTIVITY", options.app, dt], true);
    return { activity: Number(n) };
  }

  async create(options) {
    options.d = options.d || { ___duMmYkEy: null };
    validate(options, ["app", "id", "ip", "ttl", "d", "no_resave"]);
    const ttl = Number.parseInt(options.ttl ? `${options.ttl}` : "7200", 10);
    const args = ["SESS.CREATE", options.app, String(options.id), String(options.ip), "TTL", String(ttl)];
    const d = withoutNulls(options.d);
    if (Object.keys(d).length > 0) args.push("DATA", JSON.stringify(d));
    if (options.no_resave) args.push("NORESAVE");
    const token = await this.command(args);
    return { token: String(token) };
  }

  async get(options) {
    validate(options, ["app", "token"]);
    const key = `${options.app}:${options.token}`;
    if (this.sessionCache) {
      const cached = this.sessionCache.get(key);
      if (cached) return cached;
    }
    const session = sessionObject(await this.command(["SESS.GET", options.app, options.token, "JSON"]));
    if (session && this.sessionCache) this.sessionCache.set(key, session);
    return session;
  }

  async kill(options) {
    validate(options, ["app", "token"]);
    const n = await this.command(["SESS.KILL", options.app, options.token]);
    await this.announce(options.app, options.token);
    return { kill: Number(n) };
  }

  async killall(options) {
    validate(options, ["app"]);
    const n = await this.command(["SESS.KILLALL", options.app]);
    if (this.sessionCache) {
      this.forget(`${options.app}:*`);
      await this.command(["PUBLISH", `${this.redisns}cache`, `${options.app}:*`]);
    }
    return { kill: Number(n) };
  }

  async killsoid(options) {
    validate(options, ["app", "id"]);
    const tokens = this.sessionCache ? await this.tokensOf(options.app, options.id) : [];
    const n = await this.command(["SESS.KILLSOID", options.app, String(options.id)]);
    for (const token of tokens) await this.announce(options.app, token);
    return { kill: Number(n) };
  }

  async tokensOf(app, id) {
    const list = await this.command(["SESS.SOID", app, String(id), "JSON"], true);
    return list.map((entry) => String(JSON.parse(String(entry)).token));
  }

  async ping() {
    await this.toConnect;
    if (this.isCluster) return this.redis.sendCommand(undefined, true, ["PING"]);
    return this.redis.ping();
  }

  async quit() {
    await this.toConnect.catch(() => {});
    if (this.redissub) await this.redissub.quit();
    if (this.ownsClient) await this.redis.quit();
  }

  async set(options) {
    validate(options, ["app", "token", "d", "no_resave"]);
    const reply = await this.command(["SESS.SET", options.app, options.token, JSON.stringify(options.d), "JSON"]);
    const session = sessionObject(reply);
    if (session) await this.announce(options.app, options.token);
    return session;
  }

  async soapp(options) {
    validate(options, ["app", "deltaTime"]);
    const dt = String(Number.parseInt(`${options.deltaTime}`, 10));
    const list = await this.command(["SESS.SOAPP", options.app, dt, "JSON"], true);
    return { sessions: list.map(sessionObject) };
  }

  async soid(options) {
    validate(options, ["app", "id"]);
    const list = await this.command(["SESS.SOID", options.app, String(options.id), "JSON"], true);
    return { sessions: list.map(sessionObject) };
  }
}

for (const name of ["activity", "create", "get", "kill", "killall", "killsoid", "set", "soapp", "soid"]) {
  RedisSessions.prototype[name] = callbackable(RedisSessions.prototype[name]);
}
for (const name of ["ping", "quit"]) {
  const method = RedisSessions.prototype[name];
  RedisSessions.prototype[name] = function (callback) {
    const promise = method.call(this);
    if (typeof callback === "function") promise.then((r) => callback(null, r), (e) => callback(e));
    return promise;
  };
}

module.exports = RedisSessions;
module.exports.default = RedisSessions;
module.exports.RedisSessions = RedisSessions;
