// "Your devices": an express app whose sessions live in Redis through the
// SESS.* module and the express-session store in clients/express.
//
//   make run                       # Redis with the module on 127.0.0.1:6379
//   node server.js                 # then open http://localhost:3000
//
// Settings (environment): REDIS_URL (redis://127.0.0.1:6379), PORT (3000),
// SESS_APP (devices: the SESS.* app the sessions are kept under),
// SESSION_SECRET (the cookie signing secret; set your own outside a demo).
//
// Log in with a name (there is no password: it is a demo), then log in with
// the same name from another browser or a private window: each one is a
// device in the list, and any device can log out the others.
"use strict";

const express = require("express");
const session = require("express-session");
const { createClient } = require("redis");
const { SessStore } = require("sess-express-store");

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const PORT = Number(process.env.PORT || 3000);
const SESS_APP = process.env.SESS_APP || "devices";

const client = createClient({ url: REDIS_URL });
client.on("error", (err) => console.error("redis:", err.message));

// The store files each session under its user: session.userId here (or
// session.passport.user with passport), which the login below sets.
const store = new SessStore({ client, app: SESS_APP });

const app = express();
// Behind a reverse proxy, app.set("trust proxy", 1) makes req.ip (the
// address each device is listed with) the browser's, not the proxy's.
app.use(express.urlencoded({ extended: false }));
// Every page shows one session's state: never cached (nor shown again by the
// back button after a log out).
app.use((req, res, next) => {
  res.set("Cache-Control", "no-store");
  next();
});
app.use(
  session({
    store,
    name: "devices.sid",
    secret: process.env.SESSION_SECRET || "a demo secret, not for production",
    resave: false, // the store keeps sessions alive on every read
    saveUninitialized: false, // no session is stored before a login
    // SameSite=Lax: another site cannot post the log-out forms below.
    cookie: { httpOnly: true, sameSite: "lax" },
  })
);

// Pages: every value goes through html``, which escapes it.
app.get("/", async (req, res, next) => {
  try {
    if (!req.session.userId) return res.send(loginPage());
    req.session.visits = (req.session.visits || 0) + 1;
    const [devices, current, activeUsers] = await Promise.all([
      store.sessionsOf(req.session.userId), // most recently active first
      store.handleOf(req.sessionID),
      store.activity(3600),
    ]);
    res.send(homePage(req.session, devices, current, activeUsers));
  } catch (err) {
    next(err);
  }
});

// Log in: a fresh session id (regenerate), then the name as the user id;
// saving it files the session under that user.
app.post("/login", (req, res, next) => {
  const name = String(req.body.name || "").trim();
  // 1 to 32 characters (at most 128 bytes, the module's rule for user ids).
  if (!/^[^\u0000-\u001f\u007f]{1,32}$/.test(name)) {
    return res.status(400).send(loginPage("Enter a name of 1 to 32 characters."));
  }
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.userId = name;
    req.session.name = name;
    req.session.save((err) => (err ? next(err) : res.redirect(303, "/")));
  });
});

// Log out this device.
app.post("/logout", (req, res, next) => {
  req.session.destroy((err) => {
    if (err) return next(err);
    res.clearCookie("devices.sid").redirect(303, "/");
  });
});

// Log out my other devices: every session of this user but this one.
app.post("/logout-others", requireLogin, async (req, res, next) => {
  try {
    await store.destroyUser(req.session.userId, { except: req.sessionID });
    res.redirect(303, "/");
  } catch (err) {
    next(err);
  }
});

// Log out everywhere: every session of this user, this one included.
app.post("/logout-everywhere", requireLogin, async (req, res, next) => {
  try {
    await store.destroyUser(req.session.userId);
    res.clearCookie("devices.sid").redirect(303, "/");
  } catch (err) {
    next(err);
  }
});

// Log out one device, named by its handle (the list never shows session ids).
// A handle is only honoured when it is one of this user's own devices.
app.post("/devices/logout", requireLogin, async (req, res, next) => {
  try {
    const handle = String(req.body.handle || "");
    const devices = await store.sessionsOf(req.session.userId);
    if (devices.some((d) => d.handle === handle)) await store.destroyHandle(handle);
    res.redirect(303, "/");
  } catch (err) {
    next(err);
  }
});

function requireLogin(req, res, next) {
  if (req.session.userId) return next();
  res.redirect(303, "/");
}

function loginPage(error) {
  return layout(
    "Log in",
    html`<h1>Log in</h1>
      ${error ? html`<p class="error">${error}</p>` : ""}
      <form id="login" method="post" action="/login">
        <label>Your name <input name="name" autocomplete="username" required maxlength="32" autofocus></label>
        <button type="submit">Log in</button>
      </form>
      <p>No password: any name logs in. Log in with the same name in another browser to see two devices.</p>`
  );
}

function homePage(sess, devices, current, activeUsers) {
  const rows = devices.map(
    (d) => html`<tr class="device" data-current="${d.handle === current}">
        <td class="ip">${d.ip}</td>
        <td class="idle">${ago(d.idle)}</td>
        <td>${d.handle === current ? "this device" : ""}</td>
        <td><form method="post" action="/devices/logout">
          <input type="hidden" name="handle" value="${d.handle}">
          <button type="submit">log out</button>
        </form></td>
      </tr>`
  );
  return layout(
    "Your devices",
    html`<h1>Hello, <span id="name">${sess.name}</span></h1>
      <p>Visits in this session: <span id="visits">${sess.visits}</span></p>
      <p>Active users in the last hour: <span id="active-users">${activeUsers}</span></p>
      <h2>Your devices</h2>
      <table id="devices">
        <tr><th>address</th><th>last active</th><th></th><th></th></tr>
        ${rows}
      </table>
      <div class="actions">
        <form method="post" action="/logout"><button id="logout" type="submit">log out this device</button></form>
        <form method="post" action="/logout-others"><button id="logout-others" type="submit">log out my other devices</button></form>
        <form method="post" action="/logout-everywhere"><button id="logout-everywhere" type="submit">log out everywhere</button></form>
      </div>`
  );
}

function layout(title, body) {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto} td,th{padding:.2em .8em;text-align:left} form{display:inline} .actions{margin-top:1em}</style>
</head><body>${body}</body></html>`.toString();
}

function ago(seconds) {
  if (seconds < 5) return "just now";
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

// html`...`: a template whose values are escaped, except nested html`...`
// fragments (and arrays of them), which are already safe.
class Safe {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}
function html(strings, ...values) {
  return new Safe(strings.reduce((out, s, i) => out + render(values[i - 1]) + s));
}
function render(value) {
  if (value instanceof Safe) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

client.connect().then(
  () => app.listen(PORT, () => console.log(`express-devices: listening on http://localhost:${PORT} (Redis ${REDIS_URL}, app "${SESS_APP}")`)),
  (err) => {
    console.error(`express-devices: cannot reach Redis at ${REDIS_URL}: ${err.message}`);
    process.exit(1);
  }
);
