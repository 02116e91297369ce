// The express application the HTTP tests drive: express-session with the
// store, passport 0.7 with a local strategy, and routes for each case.
"use strict";

const session = require("express-session");
const { Passport } = require("passport");
const LocalStrategy = require("passport-local").Strategy;

function buildApp(express, store, options = {}) {
  const app = express();
  const errors = [];
  const waits = new Map();
  app.locals.errors = errors;
  app.locals.waits = waits;

  app.use(express.urlencoded({ extended: false }));
  app.use(
    session({
      store,
      secret: "keyboard cat",
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3600 * 1000 },
      ...(options.session || {}),
    }),
  );

  const passport = new Passport();
  passport.use(
    new LocalStrategy((username, password, done) =>
      password === "pw" ? done(null, { id: username }) : done(null, false),
    ),
  );
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id, done) => done(null, { id }));
  app.use(passport.initialize());
  app.use(passport.session());

  // The session's data, without the cookie.
  const view = (req) => {
    const data = {};
    if (req.session) for (const key of Object.keys(req.session)) if (key !== "cookie") data[key] = req.session[key];
    return { sid: req.sessionID, user: req.user ? req.user.id : null, data };
  };

  app.get("/show", (req, res) => res.json(view(req)));

  // Sets top-level keys from JSON in the query: /set?cart=[1,2]
  app.get("/set", (req, res) => {
    for (const [key, value] of Object.entries(req.query)) req.session[key] = JSON.parse(value);
    res.json(view(req));
  });

  app.get("/unset", (req, res) => {
    for (const key of Object.keys(req.query)) delete req.session[key];
    res.json(view(req));
  });

  // Waits until `n` requests named `group` have loaded the session, then
  // sets its keys: concurrent requests on one session.
  app.get("/together", async (req, res) => {
    const { group, n, ...keys } = req.query;
    let entry = waits.get(group);
    if (!entry) {
      let release;
      const all = new Promise((resolve) => {
        release = resolve;
      });
      entry = { arrived: 0, all, release };
      waits.set(group, entry);
    }
    entry.arrived += 1;
    if (entry.arrived === Number(n)) entry.release();
    await entry.all;
    for (const [key, value] of Object.entries(keys)) req.session[key] = JSON.parse(value);
    res.json(view(req));
  });

  app.get("/regenerate", (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.fresh = true;
      res.json(view(req));
    });
  });

  app.get("/destroy", (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ destroyed: true })));
  });

  app.get("/maxage", (req, res) => {
    req.session.cookie.maxAge = Number(req.query.ms);
    res.json(view(req));
  });

  app.get("/save-then-change", (req, res, next) => {
    req.session.step = 1;
    req.session.save((err) => {
      if (err) return next(err);
      req.session.step = 2;
      res.json(view(req));
    });
  });

  // Log in and out without regenerate: the session keeps its id.
  app.get("/become", (req, res) => {
    req.session.userId = req.query.id;
    res.json(view(req));
  });

  app.get("/unbecome", (req, res) => {
    delete req.session.userId;
    res.json(view(req));
  });

  app.post("/login", passport.authenticate("local"), (req, res) => res.json(view(req)));

  app.post("/logout", (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.json(view(req))));
  });

  app.get("/handle", (req, res) => res.json({ handle: store.handleOf(req.sessionID) }));

  app.get("/devices", async (req, res, next) => {
    try {
      res.json(await store.sessionsOf(req.user.id));
    } catch (err) {
      next(err);
    }
  });

  app.get("/logout-others", async (req, res, next) => {
    try {
      res.json({ killed: await store.destroyUser(req.user.id, { except: req.sessionID }) });
    } catch (err) {
      next(err);
    }
  });

  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    errors.push(err);
    if (res.headersSent) return;
    res.status(500).json({ error: String(err && err.message) });
  });

  return app;
}

module.exports = { buildApp };
