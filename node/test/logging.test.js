'use strict';
// The Lambda@Edge package's log: one line per event, in Lambda's log format (AWS_LAMBDA_LOG_FORMAT
// JSON or text, filtered by AWS_LAMBDA_LOG_LEVEL), carrying CloudFront's request id, the origin, the
// outcome and the duration, and never a secret: not the credentials, not the signature or the token
// the handler adds, not a value the viewer sent (even when the refusal's message quotes it).
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it } = require('node:test');
const { spawnSync } = require('node:child_process');
const support = require('../testing/support.js');

const { CREDENTIALS } = support;
const VIEWER_SECRET = 'Bearer viewer-secret-0123456789';
const CONTEXT = { awsRequestId: 'c0ffee00-0000-4000-8000-000000000042', functionName: 'edge-signer' };

// Runs in a child process: requires the package (argv[1]), calls its handler once with the event on
// stdin, and reports the result or the error on stderr, so that stdout holds only what the package
// wrote there (it writes with write(2) on descriptor 1, as Lambda collects it).
const CHILD = `
const handler = require(process.argv[1]).handler;
const event = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
handler(event, ${JSON.stringify(CONTEXT)}).then(
  (result) => process.stderr.write(JSON.stringify({ result })),
  (error) => process.stderr.write(JSON.stringify({ error: { name: error.name, message: error.message } })));
`;

/** A fresh copy of the package, and `logEnv` for its process. */
function loadPackage(logEnv = {}) {
  return { dir: support.unzip('lambda-edge.zip'), logEnv };
}

/** Runs the handler on `event` in its own process: what it wrote to stdout (as lines), and its result or error. */
async function invoke({ dir, logEnv }, event) {
  const child = spawnSync(process.execPath, ['-e', CHILD, path.join(dir, 'index.js')], {
    input: JSON.stringify(event) ?? 'null',
    env: { PATH: process.env.PATH, ...CREDENTIALS, ...logEnv },
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  const lines = child.stdout.split('\n');
  assert.equal(lines.pop(), '', 'every write ends its line');
  return { lines, ...JSON.parse(child.stderr) };
}

/** The shipped event, with a viewer Authorization header the handler must drop. */
function event() {
  const e = JSON.parse(fs.readFileSync(path.join(support.EVENTS, 'origin-request.json'), 'utf8'));
  e.Records[0].cf.request.headers.authorization = [{ key: 'Authorization', value: VIEWER_SECRET }];
  return e;
}

const requestIdOf = (e) => e.Records[0].cf.config.requestId;
const domainOf = (e) => e.Records[0].cf.request.origin.custom.domainName;

/** Fails if `line` holds any secret of the credentials, the outcome or the event. */
function assertNoSecret(line, result) {
  const secrets = [CREDENTIALS.AWS_SECRET_ACCESS_KEY, CREDENTIALS.AWS_SESSION_TOKEN, VIEWER_SECRET, 'viewer-secret'];
  const authorization = result?.headers?.authorization?.[0]?.value;
  if (authorization) secrets.push(authorization, authorization.match(/Signature=([0-9a-f]{64})/)[1]);
  for (const secret of secrets) assert.ok(!line.includes(secret), `the log line holds a secret: ${line}`);
  assert.doesNotMatch(line, /[0-9a-f]{64}/, 'no signature-like hex in the log line');
}

describe('the package logs one line per event', () => {
  describe('AWS_LAMBDA_LOG_FORMAT=JSON', () => {
    const handler = loadPackage({ AWS_LAMBDA_LOG_FORMAT: 'JSON' });

    it('a forwarded request: INFO, the request id, the origin, outcome forward, a duration', async () => {
      const e = event();
      const { lines, result } = await invoke(handler, e);
      assert.equal(lines.length, 1, lines.join('\n'));
      const record = JSON.parse(lines[0]);
      assert.deepEqual(Object.keys(record).slice(0, 4), ['timestamp', 'level', 'requestId', 'message']);
      assert.equal(new Date(record.timestamp).toISOString(), record.timestamp);
      assert.ok(Math.abs(Date.parse(record.timestamp) - Date.now()) < 60000, record.timestamp);
      assert.equal(record.level, 'INFO');
      assert.equal(record.requestId, requestIdOf(e));
      assert.equal(record.awsRequestId, CONTEXT.awsRequestId);
      assert.equal(record.origin, domainOf(e));
      assert.equal(record.outcome, 'forward');
      assert.equal(typeof record.durationMs, 'number');
      assert.ok(record.durationMs >= 0 && record.durationMs < 10000, String(record.durationMs));
      assert.ok(result.headers.authorization[0].value.startsWith('AWS4-HMAC-SHA256 '), 'signed');
      assertNoSecret(lines[0], result);
    });

    it('a generated response: WARN, its status and reason', async () => {
      const e = event();
      e.Records[0].cf.request.origin.custom.domainName = 'example.com';
      const { lines, result } = await invoke(handler, e);
      assert.equal(result.status, '502');
      assert.equal(lines.length, 1, lines.join('\n'));
      const record = JSON.parse(lines[0]);
      assert.equal(record.level, 'WARN');
      assert.equal(record.requestId, requestIdOf(e));
      assert.equal(record.origin, 'example.com');
      assert.equal(record.outcome, '502');
      assert.match(record.reason, /not a recognised origin/);
      assertNoSecret(lines[0], result);
    });

    it('a refused event: ERROR, the error kind, and not the message that quotes the viewer', async () => {
      const e = event();
      e.Records[0].cf.request.headers.authorization = VIEWER_SECRET; // not a list: refused
      const { lines, error } = await invoke(handler, e);
      assert.ok(error, 'refused');
      assert.ok(error.message.includes(VIEWER_SECRET), `the message quotes the value: ${error.message}`);
      assert.equal(lines.length, 1, lines.join('\n'));
      const record = JSON.parse(lines[0]);
      assert.equal(record.level, 'ERROR');
      assert.equal(record.requestId, requestIdOf(e));
      assert.equal(record.outcome, 'error');
      assert.equal(record.errorType, 'MalformedEvent');
      assertNoSecret(lines[0]);
    });

    it('an event without a record: one line still, with a null request id', async () => {
      const { lines, error } = await invoke(handler, { Records: [] });
      assert.equal(error.name, 'UnexpectedRecordCount');
      assert.equal(lines.length, 1, lines.join('\n'));
      const record = JSON.parse(lines[0]);
      assert.equal(record.requestId, null);
      assert.equal(record.errorType, 'UnexpectedRecordCount');
    });
  });

  describe('text format (the default)', () => {
    const handler = loadPackage({});

    it('timestamp, request id, level and message, tab-separated', async () => {
      const e = event();
      const { lines, result } = await invoke(handler, e);
      assert.equal(lines.length, 1, lines.join('\n'));
      const [timestamp, requestId, level, message, ...rest] = lines[0].split('\t');
      assert.deepEqual(rest, []);
      assert.equal(new Date(timestamp).toISOString(), timestamp);
      assert.equal(requestId, requestIdOf(e));
      assert.equal(level, 'INFO');
      assert.match(message, /^origin-request /);
      assert.ok(message.includes(` origin=${domainOf(e)} `), message);
      assert.ok(message.includes(' outcome=forward '), message);
      assert.match(message, / durationMs=\d+(\.\d+)?$/);
      assertNoSecret(lines[0], result);
    });

    it('a request id with a line break cannot split the line', async () => {
      const e = event();
      e.Records[0].cf.config.requestId = 'a\nb';
      const { lines } = await invoke(handler, e);
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.equal(lines[0].split('\t')[1], '"a\\nb"');
    });
  });

  it('AWS_LAMBDA_LOG_LEVEL=ERROR keeps refusals only', async () => {
    const handler = loadPackage({ AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'ERROR' });
    assert.deepEqual((await invoke(handler, event())).lines, []);
    const { lines, error } = await invoke(handler, null);
    assert.equal(error.name, 'MalformedEvent');
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).level, 'ERROR');
  });
});
