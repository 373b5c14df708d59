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
const support = require('../testing/support.js');

const { CREDENTIALS } = support;
const VIEWER_SECRET = 'Bearer viewer-secret-0123456789';
const CONTEXT = { awsRequestId: 'c0ffee00-0000-4000-8000-000000000042', functionName: 'edge-signer' };
const LOG_VARIABLES = ['AWS_LAMBDA_LOG_FORMAT', 'AWS_LAMBDA_LOG_LEVEL'];

/** Requires a fresh copy of the package with the credentials and `logEnv` set at load. */
function loadPackage(logEnv = {}) {
  const dir = support.unzip('lambda-edge.zip');
  const env = { ...CREDENTIALS, ...logEnv };
  const names = [...Object.keys(CREDENTIALS), ...LOG_VARIABLES];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  for (const name of names) {
    if (env[name] === undefined) delete process.env[name];
    else process.env[name] = env[name];
  }
  try {
    return require(path.join(dir, 'index.js')).handler;
  } finally {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

/** Calls the handler; what it wrote to stdout meanwhile (as lines), and its result or error. */
async function invoke(handler, event) {
  const written = [];
  const write = process.stdout.write;
  process.stdout.write = (chunk) => written.push(String(chunk)) > 0;
  let pending;
  try {
    // The handler logs before its promise settles, synchronously: nothing else writes meanwhile.
    pending = handler(event, CONTEXT);
  } finally {
    process.stdout.write = write;
  }
  const lines = written.join('').split('\n');
  assert.equal(lines.pop(), '', 'every write ends its line');
  try {
    return { lines, result: await pending };
  } catch (error) {
    return { lines, error };
  }
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
      assert.ok(error instanceof Error, 'refused');
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
    const { lines } = await invoke(handler, null);
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).level, 'ERROR');
  });
});
