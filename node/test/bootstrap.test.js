'use strict';
// Both artefacts as Lambda runs them, unzipped into a fresh task root, started with the runtime's
// variables, and driven through a Lambda Runtime API emulator on 127.0.0.1 (GET /next hands out an
// event, POST /response or /error takes the outcome):
// - dist/origin-request-al2023.zip: its `bootstrap`;
// - dist/lambda-edge.zip: `index.js` under peers/node-runtime/loop.js, a minimal stand-in for the
//   managed Node.js runtime's loop (it requires index.js and awaits handler(event, context)).
// The reference is the release CLI on the same event bytes: at the second the artefact signed (its
// x-amz-date) for a forwarded request, byte-identical; the CLI's message for a refusal. The Node.js
// loop gets the event as JSON.parse gives it, so it is sent compact (fields the handler does not
// model are written back as they came, whitespace included).

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { describe, it, before, after } = require('node:test');
const support = require('../testing/support.js');

const { AT, CREDENTIALS, cliSign, cliError, shippedCases, withoutEcdsaSignature, randomEvents } = support;
const PREFIX = '/2018-06-01/runtime';
const WAIT_MS = 20000;
const SEED = Number(process.env.EDGE_SIGNER_SEED || 20150830) + 1;
const RANDOM_EVENTS = 100;

/** The Runtime API: events queued by `invoke`, outcomes posted back, protocol violations noted. */
class RuntimeApi {
  constructor() {
    this.queue = [];
    this.waiting = [];
    this.pending = new Map();
    this.violations = [];
    this.count = 0;
    this.server = http.createServer((req, res) => this.serve(req, res));
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${this.server.address().port}`;
  }

  stop() {
    for (const res of this.waiting) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
  }

  /** Queues `payload` (bytes); resolves with { kind: 'response' | 'error', body } or rejects on timeout. */
  invoke(payload) {
    this.count += 1;
    const id = `c0ffee00-0000-4000-8000-${String(this.count).padStart(12, '0')}`;
    const outcome = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no outcome for ${id} within ${WAIT_MS} ms`)), WAIT_MS);
      this.pending.set(id, (value) => { clearTimeout(timer); resolve(value); });
    });
    const next = this.waiting.shift();
    if (next) this.deliver(next, id, payload);
    else this.queue.push([id, payload]);
    return outcome;
  }

  deliver(res, id, payload) {
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': id,
      'lambda-runtime-deadline-ms': String(Date.now() + 30000),
      'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:111122223333:function:origin-request',
      'lambda-runtime-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
    });
    res.end(payload);
  }

  serve(req, res) {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'GET' && req.url === `${PREFIX}/invocation/next`) {
        const queued = this.queue.shift();
        if (queued) this.deliver(res, ...queued);
        else this.waiting.push(res);
        return;
      }
      const match = req.method === 'POST' && req.url.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/);
      const settle = match && this.pending.get(match[1]);
      if (settle) {
        this.pending.delete(match[1]);
        settle({ kind: match[2], body });
      } else {
        this.violations.push(`${req.method} ${req.url}: ${body}`);
      }
      res.writeHead(settle ? 202 : 400, { 'content-type': 'application/json' });
      res.end(settle ? '{"status":"OK"}' : '{"errorType":"InvalidRequest"}');
    });
  }
}

/** The two artefacts: the zip and how Lambda starts what is in it. */
const TARGETS = [
  {
    title: 'dist/origin-request-al2023.zip (bootstrap)',
    zip: 'origin-request-al2023.zip',
    command: (taskRoot) => [path.join(taskRoot, 'bootstrap'), []],
    compact: false,
  },
  {
    title: 'dist/lambda-edge.zip (index.handler under a Node.js runtime loop)',
    zip: 'lambda-edge.zip',
    command: (taskRoot) => [process.execPath, [path.join(support.ROOT, 'peers/node-runtime/loop.js'), taskRoot]],
    compact: true,
  },
];

/** An unzipped artefact (with `config` as edge-signer.json, when given) serving `api`. */
async function startArtefact(target, api, config) {
  const taskRoot = support.unzip(target.zip);
  if (config) fs.copyFileSync(config, path.join(taskRoot, 'edge-signer.json'));
  const address = await api.start();
  const [program, args] = target.command(taskRoot);
  const child = spawn(program, args, {
    cwd: taskRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      AWS_LAMBDA_RUNTIME_API: address,
      AWS_LAMBDA_FUNCTION_NAME: 'origin-request',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_FUNCTION_VERSION: '1',
      LAMBDA_TASK_ROOT: taskRoot,
      ...CREDENTIALS,
    },
  });
  let logs = '';
  child.stdout.on('data', (d) => { logs += d; });
  child.stderr.on('data', (d) => { logs += d; });
  return { child, logs: () => logs };
}

/** x-amz-date (20150830T123600Z) as RFC 3339. */
function rfc3339(amzDate) {
  const m = amzDate.match(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/);
  assert.ok(m, `x-amz-date ${amzDate}`);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}

/** Sends `bytes` through the bootstrap and checks the outcome against the CLI on the same bytes. */
async function assertSameAsCli(api, bytes, { config, label }) {
  const outcome = await api.invoke(bytes);
  if (outcome.kind === 'response') {
    const output = JSON.parse(outcome.body);
    const amzDate = output.headers?.['x-amz-date']?.[0]?.value;
    const cli = cliSign(bytes, { config, at: amzDate ? rfc3339(amzDate) : AT });
    assert.equal(cli.status, 0, `${label}: the bootstrap answered ${outcome.body} but the CLI refused: ${cli.stderr}`);
    // SigV4A (S3 Multi-Region Access Points): the same but for the randomised ECDSA signature.
    assert.equal(withoutEcdsaSignature(outcome.body + '\n'), withoutEcdsaSignature(cli.stdout), `${label}: bootstrap vs CLI`);
    return output.status === undefined ? 'forward' : 'respond';
  }
  const error = JSON.parse(outcome.body);
  assert.equal(error.errorMessage, cliError(cliSign(bytes, { config })), label);
  assert.equal(typeof error.errorType, 'string', label);
  return 'error';
}

for (const target of TARGETS) {
  describe(`${target.title} through a Runtime API emulator`, () => {
    const cases = shippedCases();
    const runs = [
      ['default configuration', undefined, cases.filter((c) => !c.config)],
      ...cases.filter((c) => c.config).map((c) => [`${c.name}.config.json`, c.config, [c]]),
    ];
    const bytesOf = (c) => (target.compact ? JSON.stringify(JSON.parse(c.bytes)) : c.bytes);
    for (const [title, config, selected] of runs) {
      describe(`one process, ${title}`, () => {
        const api = new RuntimeApi();
        let bootstrap;
        before(async () => { bootstrap = await startArtefact(target, api, config); });
        after(() => {
          bootstrap.child.kill();
          api.stop();
        });

        for (const c of selected) {
          it(`${c.name} (shipped)`, async () => {
            const kind = await assertSameAsCli(api, bytesOf(c), { config, label: c.name });
            assert.equal(kind === 'error', c.expectedError !== undefined, `${c.name}: ${kind}`);
          });
        }

        if (config === undefined) {
          it(`${RANDOM_EVENTS} random events (seed ${SEED}) give exactly what the CLI gives`, async () => {
            const kinds = {};
            let n = 0;
            for (const { label, event } of randomEvents(SEED, RANDOM_EVENTS)) {
              n += 1;
              const kind = await assertSameAsCli(api, JSON.stringify(event), { label: `event ${n} (${label}, seed ${SEED})` });
              kinds[kind] = (kinds[kind] || 0) + 1;
            }
            for (const kind of ['forward', 'respond', 'error']) assert.ok(kinds[kind] >= 3, JSON.stringify(kinds));
          });
        }

        it('kept serving, broke no protocol rule and logged no secret', () => {
          assert.equal(bootstrap.child.exitCode, null, `the process exited\n${bootstrap.logs()}`);
          assert.deepEqual(api.violations, []);
          assert.ok(!bootstrap.logs().includes(CREDENTIALS.AWS_SECRET_ACCESS_KEY), 'secret key logged');
          assert.ok(!bootstrap.logs().includes(CREDENTIALS.AWS_SESSION_TOKEN), 'session token logged');
        });
      });
    }
  });
}
