// sess-express-store: an express-session store (also usable by
// @fastify/session) on the SESS.* commands of the redis-sessions Redis
// module. Each session is one module session of the app `app`; its token is
// derived from the session id (the cookie value never reaches Redis), each
// top-level key of the session is one JSON-encoded value of the module's flat
// data object, and a save sends only the keys that changed since the session
// was loaded, so concurrent requests that change different keys both persist.
"use strict";

const crypto = require("node:crypto");
const { EventEmitter } = require("node:events");

// express-session's Store (load, regenerate, createSession); when it is not
// installed (a @fastify/session application) an EventEmitter is enough.
let BaseStore;
try {
  BaseStore = require("express-session").Store;
} catch {
  BaseStore = class Store extends EventEmitter {};
}

// Where a loaded or saved session keeps what the store last saw of it.
const SNAPSHOT = Symbol("sess-express-store snapshot");

const MIN_TTL = 10;
const MAX_TTL = 31536000;
const DEFAULT_TTL = 86400;
const LIST_WINDOW = String(MAX_TTL);
const APP_RULE = /^[A-Za-z0-9_-]{3,20}$/;
const HANDLE_RULE = /^[A-Za-z0-9]{64}$/;
// U+0000-U+001F and U+007F: refused by the module in ids and ips.
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROLS = /[\u0000-\u001f\u007f]/g;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// The module token of a session id: 64 base62 characters from SHA-512 of the
// id's UTF-8 bytes. Digest bytes are taken in order; a byte below 248 (4 x
// 62) gives ALPHABET[byte % 62], a byte of 248 or more is skipped (so every
// character is equally likely); when the 64 bytes of a digest run out, the
// next block is SHA-512 of the previous digest.
function tokenOf(sid) {
  let token = recentTokens.get(sid);
  if (token !== undefined) return token;
  token = deriveToken(sid);
  // express-session asks for the same id two or three times a request (get,
  // then set or touch): the last few thousand are kept, dropped all at once
  // when full (a bounded map, cheaper than an LRU per request).
  if (recentTokens.size >= RECENT_TOKENS) recentTokens.clear();
  recentTokens.set(sid, token);
  return token;
}

const RECENT_TOKENS = 4096;
const recentTokens = new Map();

function deriveToken(sid) {
  let token = "";
  let block = crypto.createHash("sha512").update(sid, "utf8").digest();
  for (;;) {
    for (const byte of block) {
      if (byte < 248) {
        token += ALPHABET[byte % 62];
        if (token.length === 64) return token;
      }
    }
    block = crypto.createHash("sha512").update(block).digest();
  }
}

// The first 22 characters of the token (131 bits): a user of its own for each
// anonymous session.
function anonymousId(token) {
  return `anon:${token.slice(0, 22)}`;
}

function userIdString(value) {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function checkUserId(id) {
  const bytes = Buffer.byteLength(id, "utf8");
  if (bytes < 1 || bytes > 128 || CONTROL.test(id)) {
    throw new TypeError(
      `sess-express-store: user id ${JSON.stringify(id.slice(0, 40))} breaks the module's id rule (1-128 bytes of UTF-8 without control characters)`,
    );
  }
  return id;
}

// Cuts a string to at most `max` bytes of UTF-8 without splitting a character.
function cutBytes(text, max) {
  if (Buffer.byteLength(text, "utf8") <= max) return text;
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, "utf8");
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

// The module's ip rule: 1-39 bytes without control characters.
function clampIp(value) {
  const ip = cutBytes(String(value ?? "").replace(CONTROLS, ""), 39);
  return ip === "" ? "unknown" : ip;
}

// express-session's Session keeps its request in a non-enumerable `req`.
// @fastify/session keeps it under a private symbol whose description is
// "request"; it is looked up only when there is no `req`.
function requestOf(session) {
  if (!session || typeof session !== "object") return undefined;
  if (session.req) return session.req;
  for (const symbol of Object.getOwnPropertySymbols(session)) {
    if (symbol.description === "request") return session[symbol];
  }
  return undefined;
}

function defaultIp(session) {
  const req = requestOf(session);
  if (!req) return undefined;
  return req.ip || (req.socket && req.socket.remoteAddress) || undefined;
}

function defaultUserId(session) {
  const passportUser = session && session.passport ? session.passport.user : undefined;
  return passportUser !== undefined && passportUser !== null ? passportUser : session && session.userId;
}

function text(value) {
  if (value === null || value === undefined) return value;
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

function setOwn(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function attachSnapshot(session, snapshot) {
  try {
    Object.defineProperty(session, SNAPSHOT, { value: snapshot, writable: true, configurable: true });
  } catch {
    // A frozen object: it is saved whole next time.
  }
}

// A stored value back as the application's: JSON text parsed, anything else
// kept as it is.
function parseJson(raw) {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

// The session object from the module's data, with `parse(raw, key)` for
// each value the store wrote (a string); `values` keeps those texts to
// compare with at the next save.
function build(data, parse) {
  const session = {};
  const values = Object.create(null);
  if (data === null || typeof data !== "object") data = {};
  for (const key of Object.keys(data)) {
    const raw = data[key];
    let value = raw;
    if (typeof raw === "string") {
      value = parse(raw, key);
      values[key] = raw;
    } else {
      // A number or boolean some other writer stored: no text the store
      // wrote (null never equals one), so the next save rewrites it as
      // JSON text, or removes it when the session no longer has it.
      values[key] = null;
    }
    if (key === "__proto__") setOwn(session, key, value);
    else session[key] = value;
  }
  if (!session.cookie || typeof session.cookie !== "object") {
    setOwn(session, "cookie", { originalMaxAge: null, expires: null, httpOnly: true, path: "/" });
  }
  return { session, values };
}

function integerOption(options, name, min, max) {
  const value = options[name];
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`sess-express-store: ${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

// One interface over node-redis (v4, v5 and later: client or cluster) and
// ioredis (client or cluster): send(args, readonly) and transaction(list).
function adapt(client, app) {
  if (!client || typeof client !== "object") {
    throw new TypeError("sess-express-store: `client` must be a connected node-redis or ioredis client or cluster");
  }
  if (typeof client.call === "function" && "isCluster" in client) {
    return client.isCluster ? ioredisCluster(client, app) : ioredisClient(client);
  }
  if (typeof client.sendCommand === "function") {
    const isCluster = "masters" in client || typeof client.nodeClient === "function" || client.sendCommand.length >= 3;
    return isCluster ? nodeRedisCluster(client, app) : nodeRedisClient(client);
  }
  throw new TypeError("sess-express-store: `client` is neither a node-redis nor an ioredis client");
}

// node-redis rejects a transaction with a failed command as a whole
// (MultiErrorReply): the command's own error says more.
async function execMulti(multi) {
  try {
    return execReplies(await multi.exec());
  } catch (error) {
    const first = error && Array.isArray(error.replies) ? error.replies.find((r) => r instanceof Error) : undefined;
    throw first || error;
  }
}

function execReplies(replies) {
  if (!Array.isArray(replies)) throw new Error("sess-express-store: the transaction was aborted");
  for (const reply of replies) if (reply instanceof Error) throw reply;
  return replies;
}

function nodeRedisClient(client) {
  return {
    kind: "node-redis",
    send: (args) => client.sendCommand(args),
    async transaction(list) {
      let multi = client.multi();
      for (const args of list) multi = multi.addCommand(args);
      return execMulti(multi);
    },
  };
}

function nodeRedisCluster(cluster, app) {
  return {
    kind: "node-redis cluster",
    send: (args, readonly = false) => cluster.sendCommand(app, readonly, args),
    async transaction(list) {
      let multi = cluster.multi(app);
      // v4: addCommand(firstKey, args); v5 and later: (firstKey, isReadonly, args).
      const withReadonly = multi.addCommand.length >= 4;
      for (const args of list) multi = withReadonly ? multi.addCommand(app, false, args) : multi.addCommand(app, args);
      return execMulti(multi);
    },
  };
}

function ioredisPairs(results) {
  if (!Array.isArray(results)) throw new Error("sess-express-store: the transaction was aborted");
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

function ioredisClient(client) {
  return {
    kind: "ioredis",
    send: (args) => client.call(...args),
    async transaction(list) {
      const multi = client.multi();
      for (const args of list) multi.call(...args);
      return ioredisPairs(await multi.exec());
    },
  };
}

// ioredis routes a command by the keys it knows for it, and knows none for a
// module's command. A Command whose `keys` are set to the app is routed to
// the app's node; without ioredis's Command class (not resolvable from here)
// the cluster's MOVED redirections still lead every command there.
function ioredisCluster(cluster, app) {
  let Command;
  try {
    Command = require("ioredis").Command;
  } catch {
    Command = undefined;
  }
  const command = (args) => {
    const cmd = new Command(args[0], args.slice(1), { replyEncoding: "utf8" });
    cmd.keys = [app];
    return cmd;
  };
  return {
    kind: "ioredis cluster",
    send(args) {
      if (!Command) return cluster.call(...args);
      const cmd = command(args);
      cluster.sendCommand(cmd);
      return cmd.promise;
    },
    async transaction(list) {
      const multi = cluster.multi();
      for (const args of list) {
        if (Command) multi.sendCommand(command(args));
        else multi.call(...args);
      }
      return ioredisPairs(await multi.exec());
    },
  };
}

// Runs `work` and, when `callback` is a function, hands it the outcome (on a
// later tick, outside the promise chain). With a callback the returned
// promise never rejects, so an error is never an unhandled rejection.
function settle(work, callback) {
  const promise = Promise.resolve().then(work);
  if (typeof callback !== "function") return promise;
  return promise.then(
    (value) => {
      process.nextTick(callback, null, value);
      return value;
    },
    (error) => {
      process.nextTick(callback, error);
      return undefined;
    },
  );
}

function checkSid(sid) {
  if (typeof sid !== "string" || sid === "") {
    throw new TypeError("sess-express-store: a session id must be a non-empty string");
  }
}

class SessStore extends BaseStore {
  constructor(options = {}) {
    super();
    const o = options || {};
    if (typeof o.app !== "string" || !APP_RULE.test(o.app)) {
      throw new TypeError("sess-express-store: `app` must be 3-20 characters of A-Z a-z 0-9 _ -");
    }
    this.app = o.app;
    this.redis = adapt(o.client, o.app);
    this.client = o.client;
    if (o.ttl !== undefined && typeof o.ttl !== "function" && !(Number.isFinite(o.ttl) && o.ttl > 0)) {
      throw new TypeError("sess-express-store: `ttl` must be a positive number of seconds or a function");
    }
    this.ttl = o.ttl ?? DEFAULT_TTL;
    this.absoluteTimeout = integerOption(o, "absoluteTimeout", MIN_TTL, MAX_TTL);
    this.maxSessionsPerUser = integerOption(o, "maxSessionsPerUser", 1, 10000);
    for (const name of ["userId", "ip"]) {
      if (o[name] !== undefined && typeof o[name] !== "function") {
        throw new TypeError(`sess-express-store: \`${name}\` must be a function of the session`);
      }
    }
    this.userIdOf = o.userId || defaultUserId;
    this.ipOf = o.ip || defaultIp;
    this.disableTouch = Boolean(o.disableTouch);
    const serializer = o.serializer || JSON;
    if (typeof serializer.parse !== "function" || typeof serializer.stringify !== "function") {
      throw new TypeError("sess-express-store: `serializer` needs parse and stringify");
    }
    this.serializer = serializer;
  }

  // express-session builds its Session from the enumerable string keys of
  // what get() returned: the snapshot moves over here.
  createSession(req, sess) {
    const snapshot = sess ? sess[SNAPSHOT] : undefined;
    if (typeof super.createSession !== "function") return sess;
    const session = super.createSession(req, sess);
    if (snapshot) attachSnapshot(session, snapshot);
    return session;
  }

  handleOf(sid) {
    checkSid(sid);
    return tokenOf(sid);
  }

  get(sid, callback) {
    return settle(() => this._get(sid), callback);
  }

  set(sid, session, callback) {
    return settle(() => this._set(sid, session), callback);
  }

  touch(sid, session, callback) {
    return settle(() => this._touch(sid, session), callback);
  }

  destroy(sid, callback) {
    return settle(async () => {
      if (typeof sid !== "string" || sid === "") return;
      await this.redis.send(["SESS.KILL", this.app, tokenOf(sid)]);
    }, callback);
  }

  all(callback) {
    return settle(async () => {
      const list = await this.redis.send(["SESS.SOAPP", this.app, LIST_WINDOW, "JSON"], true);
      const sessions = [];
      for (const entry of list) sessions.push((await this._decode(JSON.parse(text(entry)))).session);
      return sessions;
    }, callback);
  }

  length(callback) {
    return settle(async () => {
      const list = await this.redis.send(["SESS.SOAPP", this.app, LIST_WINDOW, "JSON"], true);
      return list.length;
    }, callback);
  }

  clear(callback) {
    return settle(async () => {
      await this.redis.send(["SESS.KILLALL", this.app]);
    }, callback);
  }

  sessionsOf(userId, callback) {
    return settle(async () => {
      const id = checkUserId(this._userIdArgument(userId));
      const list = await this.redis.send(["SESS.SOID", this.app, id, "JSON"], true);
      const out = [];
      for (const entry of list) {
        const s = JSON.parse(text(entry));
        const item = { handle: s.token, ip: s.ip, idle: s.idle, ttl: s.ttl, reads: s.r, writes: s.w };
        if (s.maxage !== undefined) item.maxage = s.maxage;
        item.data = (await this._decode(s)).session;
        out.push(item);
      }
      return out;
    }, callback);
  }

  destroyUser(userId, options, callback) {
    if (typeof options === "function") {
      callback = options;
      options = undefined;
    }
    return settle(async () => {
      const id = checkUserId(this._userIdArgument(userId));
      const args = ["SESS.KILLSOID", this.app, id];
      const except = options && options.except;
      if (except !== undefined && except !== null) {
        checkSid(except);
        args.push("EXCEPT", tokenOf(except));
      }
      return Number(await this.redis.send(args));
    }, callback);
  }

  destroyHandle(handle, callback) {
    return settle(async () => {
      if (typeof handle !== "string" || !HANDLE_RULE.test(handle)) {
        throw new TypeError("sess-express-store: a handle is 64 characters of A-Z a-z 0-9");
      }
      return Number(await this.redis.send(["SESS.KILL", this.app, handle])) === 1;
    }, callback);
  }

  activity(seconds, callback) {
    return settle(async () => {
      const dt = Number(seconds);
      if (!Number.isInteger(dt) || dt < MIN_TTL || dt > MAX_TTL) {
        throw new TypeError(`sess-express-store: activity takes an integer number of seconds from ${MIN_TTL} to ${MAX_TTL}`);
      }
      return Number(await this.redis.send(["SESS.ACTIVITY", this.app, String(dt)], true));
    }, callback);
  }

  // --- internals ---------------------------------------------------------

  _userIdArgument(userId) {
    const id = userIdString(userId);
    if (id === undefined) throw new TypeError("sess-express-store: a user id is needed");
    return id;
  }

  async _get(sid) {
    if (typeof sid !== "string" || sid === "") return null;
    const token = tokenOf(sid);
    const command = this.disableTouch ? "SESS.PEEK" : "SESS.GET";
    const reply = await this.redis.send([command, this.app, token, "JSON"], this.disableTouch);
    if (reply === null || reply === undefined) return null;
    const parsed = JSON.parse(text(reply));
    const { session, values } = this.serializer === JSON ? build(parsed.d || {}, parseJson) : await this._decode(parsed);
    attachSnapshot(session, { token, user: String(parsed.id), ttl: Number(parsed.ttl), values });
    return session;
  }

  // The module's session (compact JSON reply) as the application's session:
  // each data value parsed back, a cookie always present. Synchronous with
  // the default serializer (no promise per key on every request); a custom
  // serializer's parse may return a promise.
  async _decode(parsed) {
    const data = parsed.d && typeof parsed.d === "object" ? parsed.d : {};
    if (this.serializer === JSON) return build(data, parseJson);
    const parsedValues = Object.create(null);
    for (const key of Object.keys(data)) {
      if (typeof data[key] !== "string") continue;
      try {
        parsedValues[key] = await this.serializer.parse(data[key]);
      } catch {
        parsedValues[key] = data[key];
      }
    }
    return build(data, (raw, key) => parsedValues[key]);
  }

  // The session's top-level keys as the text to store, in key order; keys
  // whose value JSON leaves out (undefined, functions) are not stored.
  _encode(session) {
    const values = Object.create(null);
    for (const key of Object.keys(session)) {
      const value = session[key];
      if (value === undefined || typeof value === "function" || typeof value === "symbol") continue;
      const raw = this.serializer.stringify(value);
      if (typeof raw === "string") values[key] = raw;
    }
    return values;
  }

  // Seconds of idleness allowed, or null when the expiry is already past.
  _ttlOf(session) {
    let ttl;
    const expires = session && session.cookie && session.cookie.expires ? new Date(session.cookie.expires).getTime() : NaN;
    if (typeof this.ttl === "function") {
      ttl = this.ttl(session);
    } else if (!Number.isNaN(expires)) {
      ttl = (expires - Date.now()) / 1000;
    } else {
      ttl = this.ttl;
    }
    ttl = Number(ttl);
    if (Number.isNaN(ttl)) throw new TypeError("sess-express-store: the ttl is not a number");
    ttl = Math.ceil(ttl);
    if (ttl <= 0) return null;
    return Math.min(Math.max(ttl, MIN_TTL), MAX_TTL);
  }

  _userOf(session, token) {
    const id = userIdString(this.userIdOf(session));
    return id === undefined ? anonymousId(token) : checkUserId(id);
  }

  _snapshotOf(session, token) {
    const snapshot = session ? session[SNAPSHOT] : undefined;
    return snapshot && snapshot.token === token ? snapshot : undefined;
  }

  // The token and ttl a save or touch writes with, or null when the
  // session's expiry is past: then it is removed, as connect-redis does.
  async _lifetime(sid, session) {
    checkSid(sid);
    if (!session || typeof session !== "object") throw new TypeError("sess-express-store: a session must be an object");
    const token = tokenOf(sid);
    const ttl = this._ttlOf(session);
    if (ttl !== null) return { token, ttl };
    await this.redis.send(["SESS.KILL", this.app, token]);
    return null;
  }

  async _set(sid, session) {
    const lifetime = await this._lifetime(sid, session);
    if (lifetime === null) return;
    const { token, ttl } = lifetime;
    const user = this._userOf(session, token);
    const values = this._encode(session);
    const snapshot = this._snapshotOf(session, token);
    if (!snapshot) {
      await this._saveUnseen(session, token, user, ttl, values);
      return;
    }
    const changes = Object.create(null);
    let changed = 0;
    for (const key of Object.keys(values)) {
      if (snapshot.values[key] !== values[key]) {
        changes[key] = values[key];
        changed += 1;
      }
    }
    for (const key of Object.keys(snapshot.values)) {
      if (!(key in values)) {
        changes[key] = null;
        changed += 1;
      }
    }
    const ttlChanged = ttl !== snapshot.ttl;
    const userChanged = user !== snapshot.user;
    if (changed === 0 && !ttlChanged && !userChanged) return;
    if (ttlChanged && changed === 0) {
      // SET needs a key: the cookie (or, without one, a removal of nothing).
      if ("cookie" in values) changes.cookie = values.cookie;
      else changes.cookie = null;
      changed = 1;
    }
    const commands = [];
    if (changed > 0) {
      const args = ["SESS.SET", this.app, token, JSON.stringify(changes)];
      if (ttlChanged) args.push("TTL", String(ttl));
      args.push("JSON");
      commands.push(args);
    }
    if (userChanged) commands.push(this._assign(token, user));
    const replies =
      commands.length === 1 ? [await this.redis.send(commands[0])] : await this.redis.transaction(commands);
    // A session killed or expired since it was loaded stays dead: SET
    // answers nil and ASSIGN 0, and nothing is written.
    const first = replies[0];
    if (first === null || first === undefined || (commands[0][0] === "SESS.ASSIGN" && Number(first) === 0)) return;
    attachSnapshot(session, { token, user, ttl, values });
  }

  // A session the store has not seen (no snapshot: new, regenerated, or
  // saved by code that did not load it through createSession). An
  // express-session Session (it has its request) is new or regenerated: it is
  // created first. Any other object (@fastify/session builds a new one for
  // each request from what get() returned) is most likely a loaded session:
  // it is overwritten first. Either way, the other step follows when the
  // first finds the token free or taken.
  async _saveUnseen(session, token, user, ttl, values) {
    const createFirst = Boolean(session.req);
    for (let round = 0; round < 3; round++) {
      if (createFirst || round > 0) {
        if (await this._create(session, token, user, ttl, values)) return;
      }
      if (await this._overwrite(session, token, user, ttl, values)) return;
    }
    throw new Error("sess-express-store: the session's token kept changing hands; nothing was saved");
  }

  // SESS.ASSIGN, capped by maxSessionsPerUser as a created session is.
  _assign(token, user) {
    const args = ["SESS.ASSIGN", this.app, token, user];
    if (this.maxSessionsPerUser !== undefined) args.push("MAXSESSIONS", String(this.maxSessionsPerUser));
    return args;
  }

  // SESS.CREATE ... TOKEN: false when the token is a live session already.
  async _create(session, token, user, ttl, values) {
    const args = ["SESS.CREATE", this.app, user, clampIp(this.ipOf(session)), "TTL", String(ttl)];
    const data = JSON.stringify(values);
    if (data !== "{}") args.push("DATA", data);
    args.push("TOKEN", token);
    if (this.absoluteTimeout !== undefined) args.push("MAXAGE", String(this.absoluteTimeout));
    if (this.maxSessionsPerUser !== undefined) args.push("MAXSESSIONS", String(this.maxSessionsPerUser));
    try {
      await this.redis.send(args);
    } catch (error) {
      if (/token in use/i.test(String(error && error.message))) return false;
      throw error;
    }
    attachSnapshot(session, { token, user, ttl, values });
    return true;
  }

  // The whole data, ttl and user written over a live session in one step;
  // keys it holds that the session has not are then removed. False when no
  // live session has the token.
  async _overwrite(session, token, user, ttl, values) {
    const data = JSON.stringify(values);
    const [reply] = await this.redis.transaction([
      ["SESS.SET", this.app, token, data === "{}" ? '{"cookie":null}' : data, "TTL", String(ttl), "JSON"],
      this._assign(token, user),
    ]);
    if (reply === null || reply === undefined) return false;
    const stored = JSON.parse(text(reply)).d || {};
    const extra = Object.create(null);
    let extras = 0;
    for (const key of Object.keys(stored)) {
      if (!(key in values)) {
        extra[key] = null;
        extras += 1;
      }
    }
    if (extras > 0) {
      const again = await this.redis.send(["SESS.SET", this.app, token, JSON.stringify(extra), "JSON"]);
      if (again === null || again === undefined) return true; // killed meanwhile: stays dead
    }
    attachSnapshot(session, { token, user, ttl, values });
    return true;
  }

  async _touch(sid, session) {
    checkSid(sid);
    if (this.disableTouch) return;
    const lifetime = await this._lifetime(sid, session);
    if (lifetime === null) return;
    const { token, ttl } = lifetime;
    const snapshot = this._snapshotOf(session, token);
    if (snapshot && this._userOf(session, token) !== snapshot.user) {
      await this._set(sid, session);
      return;
    }
    // The GET that loaded the session slid its expiry already.
    if (snapshot && ttl === snapshot.ttl) return;
    const raw = session.cookie === undefined ? undefined : this.serializer.stringify(session.cookie);
    const cookie = typeof raw === "string" ? raw : null;
    const reply = await this.redis.send([
      "SESS.SET",
      this.app,
      token,
      JSON.stringify({ cookie }),
      "TTL",
      String(ttl),
      "JSON",
    ]);
    if (reply === null || reply === undefined || !snapshot) return;
    const next = Object.assign(Object.create(null), snapshot.values);
    if (cookie === null) delete next.cookie;
    else next.cookie = cookie;
    attachSnapshot(session, { token, user: snapshot.user, ttl, values: next });
  }
}

// `const { SessStore } = require(...)`, `const SessStore = require(...)` and
// `import SessStore from ...` all work.
module.exports = SessStore;
Object.assign(SessStore, { SessStore, tokenOf, SNAPSHOT, default: SessStore });
