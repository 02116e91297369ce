// The test suite of redis-sessions 4.0.0 (dist/test/test.js of the npm
// package, MIT, P. Liess), run against this client and the module: the same
// cases in the same order, loaded from the devDependency rather than copied.
//
// The suite's source is read from node_modules, changed by the patch below,
// and compiled as a module in place of this file, so mocha registers its
// cases here. Each change replaces text within one line, so line numbers in
// failures are those of node_modules/redis-sessions/dist/test/test.js. If a
// pattern is not found exactly as often as expected (another version of the
// package, say), loading fails instead of running a different suite.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");

const SUITE = require.resolve("redis-sessions/dist/test/test.js");
const CLIENT = require.resolve("../index");
// The server the Rust test harness started.
const PORT = Number(process.env.SESS_TEST_PORT || 6379);

const PATCH = [
  {
    why: "the client under test: this package, not the library's dist/index",
    find: 'require("../index")',
    replace: `require(${JSON.stringify(CLIENT)})`,
    count: 1
  },
  {
    why: "connect to the test server's port (the three `new RedisSessions`)",
    find: "new index_1.default({",
    replace: `new index_1.default({ port: ${JSON.stringify(PORT)},`,
    count: 3
  },
  {
    why: "leave ending the process to mocha (--exit) so the other files run",
    find: "process.exit(0);",
    replace: "/* module: mocha --exit ends the process */",
    count: 1
  }
];

function patched(source) {
  for (const { why, find, replace, count } of PATCH) {
    const found = source.split(find).length - 1;
    if (found !== count) {
      throw new Error(
        `${SUITE}: the patch no longer applies: expected ${count} ` +
        `occurrence(s) of ${JSON.stringify(find)} (${why}), found ${found}`
      );
    }
    source = source.split(find).join(replace);
  }
  return source;
}

const suite = new Module(SUITE, module);
suite.filename = SUITE;
suite.paths = Module._nodeModulePaths(path.dirname(SUITE));
suite._compile(patched(fs.readFileSync(SUITE, "utf8")), SUITE);
