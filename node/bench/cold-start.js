'use strict';
// Cold start of Node.js handlers, side by side: each start is `node peers/node-runtime/loop.js DIR`
// (the stand-in for the managed runtime's loop) against a Runtime API emulator in this process with
// the event already queued; measured from just before the spawn to the moment its first
// `POST …/response` has arrived. Rounds interleave the implementations in a new shuffled order,
// so the noise of a shared machine falls on all of them alike. benches/cold_start.rs is the full
// harness (kernel timestamps, RSS, every answer checked against aws-sigv4); this one needs no
// Rust build, for quick comparisons of Node.js packages.
//
// Usage: node node/bench/cold-start.js [--rounds N] [--event FILE] LABEL=DIR...
//   The first LABEL is the floor the others are compared with (e.g. floor=peers/node-floor).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const LOOP = path.join(ROOT, 'peers/node-runtime/loop.js');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const [, value] = args.splice(at, 2);
  return value;
};
const ROUNDS = Number(option('--rounds', 30));
const eventFile = option('--event', path.join(ROOT, 'vectors/events/origin-request.json'));
if (args.length < 2 || args.some((a) => !a.includes('='))) {
  console.error('usage: node node/bench/cold-start.js [--rounds N] [--event FILE] FLOOR=DIR LABEL=DIR...');
  process.exit(2);
}
const EVENT = JSON.stringify(JSON.parse(fs.readFileSync(eventFile, 'utf8')));
// The credentials of the shipped goldens (vectors/events/README.md): not real secrets.
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267',
};

/** Starts `dir` once; resolves with ms from spawn to its first response, and that response. */
async function start(dir) {
  let started;
  let child;
  const server = http.createServer();
  const done = new Promise((resolve, reject) => {
    server.on('request', (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET' && req.url.endsWith('/invocation/next')) {
          if (started === undefined) return; // a second /next: left waiting, the process is killed
          res.writeHead(200, {
            'lambda-runtime-aws-request-id': 'c0ffee00-0000-4000-8000-000000000001',
            'lambda-runtime-deadline-ms': String(Date.now() + 30000),
            'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:111122223333:function:edge',
          });
          res.end(EVENT);
          return;
        }
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        started = undefined;
        res.writeHead(202);
        res.end();
        const body = Buffer.concat(chunks).toString('utf8');
        if (!req.url.endsWith('/response')) reject(new Error(`${dir}: ${req.url} ${body}`));
        else resolve({ ms, body });
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  started = process.hrtime.bigint();
  child = spawn(process.execPath, [LOOP, dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${server.address().port}`,
      AWS_LAMBDA_FUNCTION_NAME: 'edge',
      AWS_LAMBDA_FUNCTION_VERSION: '1',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      ...CREDENTIALS,
    },
  });
  const timer = setTimeout(() => child.kill(), 30000);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
    child.kill();
    server.closeAllConnections();
    server.close();
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  }
}

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

(async () => {
  const implementations = args.map((arg) => {
    const [label, dir] = arg.split(/=(.*)/s);
    return { label, dir: path.resolve(dir), times: [] };
  });
  for (let round = -1; round < ROUNDS; round++) {
    for (const impl of shuffle([...implementations])) {
      const { ms, body } = await start(impl.dir);
      const output = JSON.parse(body);
      if (impl !== implementations[0] && !output.headers?.authorization?.[0]?.value.startsWith('AWS4-HMAC-SHA256 ')) {
        throw new Error(`${impl.label} did not sign: ${body}`);
      }
      if (round >= 0) impl.times.push(ms); // round -1 warms the page cache
    }
  }
  const floor = quantile(implementations[0].times, 0.5);
  console.log(`${path.relative(ROOT, eventFile)}, node ${process.version}, ${ROUNDS} interleaved rounds: spawn -> first response, ms`);
  for (const { label, times } of implementations) {
    const median = quantile(times, 0.5);
    console.log(`  ${label.padEnd(24)} median ${median.toFixed(2).padStart(7)}  p90 ${quantile(times, 0.9).toFixed(2).padStart(7)}  x ${(median / floor).toFixed(3)} ${implementations[0].label}`);
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
