// The example in a real browser: Chromium (Debian's /usr/bin/chromium, or
// CHROMIUM_PATH) driven by puppeteer-core, against `node server.js` and a
// redis-server with the module, each on a free port.
//
//   SESS_MODULE=/path/to/libredis_sessions.so node test/browser.test.js
//
// With SESS_TEST_PORT set, the Redis (with the module) on that port is used
// instead of starting one (tests/browser.rs passes one that way); otherwise
// REDIS_SERVER names the redis-server binary (default: from PATH). Each run
// uses an app of its own, so it never meets another run's sessions.
"use strict";

const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const test = require("node:test");
const puppeteer = require("puppeteer-core");

const EXAMPLE = path.join(__dirname, "..");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const MODULE =
  process.env.SESS_MODULE || path.join(EXAMPLE, "../../target/release/libredis_sessions.so");

test("devices: two browsers of one user, a third user, log out other / one / everywhere", { timeout: 120000 }, async (t) => {
  const redisPort = process.env.SESS_TEST_PORT ? Number(process.env.SESS_TEST_PORT) : await startRedis(t);
  const base = await startApp(t, redisPort);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true, // Chromium's --headless=new
    // As root in a container: no sandbox, and /dev/shm may be tiny.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  t.after(() => browser.close());

  // Three isolated contexts (incognito): no cookie is shared between them.
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => newPage(browser)));
  const go = (page) => load(page, base);

  await t.test("a visitor gets the login form", async () => {
    assert.equal((await go(a)).login, true);
  });

  let aliceA;
  await t.test("alice logs in on browser A: her name, a visit counter, one device", async () => {
    let s = await login(a, base, "alice");
    assert.equal(s.name, "alice");
    assert.equal(s.visits, "1");
    s = await go(a);
    assert.equal(s.visits, "2");
    assert.equal(s.devices.length, 1);
    assert.equal(s.devices[0].current, true);
    assert.match(s.devices[0].ip, /127\.0\.0\.1|::1/);
    aliceA = s.devices[0].handle;
  });

  let aliceB;
  await t.test("alice logs in on browser B: two devices, B is this one", async () => {
    const s = await login(b, base, "alice");
    assert.equal(s.visits, "1");
    assert.equal(s.devices.length, 2);
    const current = s.devices.filter((d) => d.current);
    assert.equal(current.length, 1);
    aliceB = current[0].handle;
    assert.deepEqual(s.devices.map((d) => d.handle).sort(), [aliceA, aliceB].sort());
  });

  const evil = `b&"<img src=x onerror=pwned=1>`;
  let bob;
  await t.test("bob (a name full of HTML) logs in on browser C: shown as text, one device", async () => {
    const s = await login(c, base, evil);
    assert.equal(s.name, evil);
    assert.equal(s.images, 0);
    assert.equal(await c.evaluate(() => window.pwned), undefined);
    assert.equal(s.devices.length, 1);
    bob = s.devices[0].handle;
    assert.equal(s.activeUsers, "2");
  });

  await t.test("bob is never one of alice's devices", async () => {
    for (const page of [a, b]) {
      const s = await go(page);
      assert.equal(s.devices.length, 2);
      assert.ok(!s.devices.some((d) => d.handle === bob));
    }
  });

  await t.test("alice cannot log bob out with his handle", async () => {
    await b.evaluate((handle) => fetch("/devices/logout", { method: "POST", body: new URLSearchParams({ handle }) }), bob);
    assert.equal((await go(c)).name, evil);
  });

  await t.test("B logs out A with A's own button: A's next page is the login", async () => {
    await go(b);
    const s = await submit(b, `tr.device:has(input[value="${aliceA}"]) button`);
    assert.deepEqual(s.devices.map((d) => d.handle), [aliceB]);
    assert.equal((await go(a)).login, true);
  });

  await t.test("A logs in again; B logs out its other devices: A's next page is the login", async () => {
    await login(a, base, "alice");
    let s = await go(b);
    assert.equal(s.devices.length, 2);
    s = await submit(b, "#logout-others");
    assert.deepEqual(s.devices.map((d) => d.handle), [aliceB]);
    assert.equal((await go(a)).login, true);
    assert.equal((await go(b)).name, "alice");
  });

  await t.test("A logs in again and logs out everywhere: A and B show the login, bob stays", async () => {
    let s = await login(a, base, "alice");
    assert.equal(s.devices.length, 2);
    s = await submit(a, "#logout-everywhere");
    assert.equal(s.login, true);
    assert.equal((await go(a)).login, true);
    assert.equal((await go(b)).login, true);
    s = await go(c);
    assert.equal(s.name, evil);
    assert.equal(s.devices.length, 1);
    assert.equal(s.activeUsers, "1");
  });

  await t.test("bob logs out this device", async () => {
    assert.equal((await submit(c, "#logout")).login, true);
    assert.equal((await go(c)).login, true);
  });
});

// --- the browser -------------------------------------------------------

async function newPage(browser) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  return page;
}

// What a page shows: the login form, or the name, counters and devices.
function state(page) {
  return page.evaluate(() => {
    const text = (sel) => document.querySelector(sel)?.textContent;
    return {
      login: !!document.querySelector("form#login"),
      name: text("#name"),
      visits: text("#visits"),
      activeUsers: text("#active-users"),
      images: document.images.length,
      devices: [...document.querySelectorAll("tr.device")].map((row) => ({
        handle: row.querySelector("input[name=handle]").value,
        current: row.dataset.current === "true",
        ip: row.querySelector(".ip").textContent,
        idle: row.querySelector(".idle").textContent,
      })),
    };
  });
}

async function load(page, base) {
  const response = await page.goto(base + "/");
  assert.equal(response.status(), 200, await response.text());
  return state(page);
}

// Clicks a button that posts a form, waits for the page it leads to.
async function submit(page, selector) {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  assert.equal(response.status(), 200, await response.text());
  return state(page);
}

async function login(page, base, name) {
  const s = await load(page, base);
  assert.equal(s.login, true, "expected the login form");
  await page.type("form#login input[name=name]", name);
  return submit(page, "form#login button");
}

// --- the servers -------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

// A redis-server with the module on a free port, in a temporary directory.
async function startRedis(t) {
  assert.ok(fs.existsSync(MODULE), `no module at ${MODULE}: set SESS_MODULE (make build makes target/release/libredis_sessions.so)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "express-devices-"));
  const port = await freePort();
  const redis = spawn(
    process.env.REDIS_SERVER || "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--loadmodule", MODULE],
    { stdio: ["ignore", "pipe", "pipe"] }
  );
  let log = "";
  redis.stdout.on("data", (d) => (log += d));
  redis.stderr.on("data", (d) => (log += d));
  t.after(() => {
    redis.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(() => ping(port), () => `redis-server did not start on port ${port}:\n${log}`);
  return port;
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
    socket.on("data", (d) => {
      socket.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    socket.on("error", () => resolve(false));
  });
}

// `node server.js` on a free port, with an app name of this run's own.
async function startApp(t, redisPort) {
  const port = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    SESS_APP: `devtest-${process.pid}`.slice(0, 20),
  };
  const app = spawn(process.execPath, ["server.js"], { cwd: EXAMPLE, env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  app.stdout.on("data", (d) => (log += d));
  app.stderr.on("data", (d) => (log += d));
  let exited = false;
  app.on("exit", () => (exited = true));
  t.after(() => {
    app.kill();
    if (log.includes("Error")) console.log(`server.js said:\n${log}`);
  });
  await waitFor(() => exited || log.includes("listening on"), () => `server.js did not start:\n${log}`);
  assert.equal(exited, false, `server.js exited:\n${log}`);
  return `http://127.0.0.1:${port}`;
}

async function waitFor(check, message, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 100));
  }
}
