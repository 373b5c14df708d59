'use strict';
// The Lambda@Edge package as the managed Node.js runtime uses it: dist/lambda-edge.zip unzipped into
// a fresh directory, index.js required from there with the execution role's credentials in the
// environment, `handler(event, context)` called and awaited. The reference is the release CLI,
// `edge-signer sign --at …`, on the same event's JSON: the handler's result, serialised, must be
// byte-identical to what the CLI prints, and a refusal must carry the CLI's message.
//
// The clock is fixed with node:test's mock timers (Date), so no production knob exists for it.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, before, after, mock } = require('node:test');
const support = require('../testing/support.js');

const { AT, CREDENTIALS, cliSign, cliError, shippedCases, withoutPosition, withoutEcdsaSignature, randomEvents } = support;
const SEED = Number(process.env.EDGE_SIGNER_SEED || 20150830);
const RANDOM_EVENTS = 300;

/** A Lambda context object, as the runtime passes it. */
function lambdaContext(n = 1) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'edge-signer',
    functionVersion: '1',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:edge-signer:1',
    memoryLimitInMB: '128',
    awsRequestId: `c0ffee00-0000-4000-8000-${String(n).padStart(12, '0')}`,
    logGroupName: '/aws/lambda/us-east-1.edge-signer',
    logStreamName: '2015/08/30/[1]0123456789abcdef',
    getRemainingTimeInMillis: () => 30000,
  };
}

/**
 * Unzips the package (plus `config` as edge-signer.json, when given) and requires its index.js with
 * exactly `env` as the credential variables; returns the module. The variables are restored after.
 */
function loadPackage({ config, env = CREDENTIALS } = {}) {
  const dir = support.unzip('lambda-edge.zip');
  if (config !== undefined) fs.writeFileSync(path.join(dir, 'edge-signer.json'), config);
  const names = Object.keys(CREDENTIALS);
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  for (const name of names) {
    if (env[name] === undefined) delete process.env[name];
    else process.env[name] = env[name];
  }
  try {
    return require(path.join(dir, 'index.js'));
  } finally {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

/** Calls the handler as the runtime does; its result or thrown error. */
async function invoke(handler, event, n) {
  const pending = handler(event, lambdaContext(n));
  assert.ok(pending instanceof Promise, 'handler must be async');
  try {
    return { result: await pending };
  } catch (error) {
    return { error };
  }
}

/** The error kind of each shipped refused event (the rest of the refusals are checked for a known kind). */
const EXPECTED_KIND = {
  'error-event-type': 'WrongEventType',
  'error-both-origins': 'AmbiguousOrigin',
  'error-two-records': 'UnexpectedRecordCount',
  'error-crlf-header': 'MalformedEvent',
  'error-missing-uri': 'MalformedEvent',
  'error-wrong-type': 'MalformedEvent',
};

/** Checks one event against the CLI given the same JSON; returns 'forward', 'respond' or 'error'. */
async function assertSameAsCli(handler, event, { config, label = '', n } = {}) {
  const json = JSON.stringify(event) ?? 'null';
  const cli = cliSign(json, { config });
  const { result, error } = await invoke(handler, event, n);
  if (cli.status === 0) {
    assert.equal(error, undefined, `${label}: the CLI signed it but the handler threw: ${error}`);
    // SigV4A (S3 Multi-Region Access Points): the same but for the randomised ECDSA signature.
    assert.equal(withoutEcdsaSignature(JSON.stringify(result) + '\n'), withoutEcdsaSignature(cli.stdout), `${label}: handler vs CLI`);
    return result.status === undefined ? 'forward' : 'respond';
  }
  const message = cliError(cli);
  assert.ok(error instanceof Error, `${label}: the CLI refused (${message}) but the handler returned ${JSON.stringify(result)}`);
  assert.equal(error.message, message, label);
  // The kinds of the core's EventError, as the al2023 bootstrap reports them in errorType.
  const kinds = ['MalformedEvent', 'UnexpectedRecordCount', 'WrongEventType', 'AmbiguousOrigin',
    'InvalidHeaderName', 'InvalidBody'];
  assert.ok(kinds.includes(error.code), `${label}: code ${error.code}`);
  assert.equal(error.name, error.code, label);
  const expectedKind = EXPECTED_KIND[label];
  if (expectedKind) assert.equal(error.code, expectedKind, label);
  return 'error';
}

describe('dist/lambda-edge.zip, loaded as the Node.js runtime loads it', () => {
  let handler;
  before(() => {
    mock.timers.enable({ apis: ['Date'], now: Date.parse(AT) });
    ({ handler } = loadPackage());
  });
  after(() => mock.timers.reset());

  describe('shipped events (vectors/events) give the golden output, byte for byte', () => {
    for (const c of shippedCases()) {
      it(c.name, async () => {
        const h = c.config ? loadPackage({ config: fs.readFileSync(c.config) }).handler : handler;
        const event = JSON.parse(c.bytes);
        const kind = await assertSameAsCli(h, event, { config: c.config, label: c.name });
        const { result, error } = await invoke(h, event);
        if (c.expected !== undefined) {
          assert.notEqual(kind, 'error');
          // Byte for byte against the CLI on the same JSON (above). The golden was made from the
          // pretty-printed file, and fields the handler does not model keep their whitespace there,
          // so against the golden the comparison is after re-serialising it.
          assert.equal(JSON.stringify(result), JSON.stringify(JSON.parse(c.expected)), 'handler vs golden');
        } else {
          assert.equal(kind, 'error');
          // The golden comes from the pretty-printed file; the handler gets the event as an object,
          // so serde_json's line and column (when the message has them) differ.
          assert.equal(withoutPosition(error.message), withoutPosition(c.expectedError.trimEnd()));
        }
      });
    }
  });

  it('an S3 Multi-Region Access Point event is signed with SigV4A as the CLI signs it', async () => {
    const event = JSON.parse(fs.readFileSync(path.join(support.EVENTS, 'origin-request.json')));
    event.Records[0].cf.request.origin.custom.domainName = 'mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com';
    assert.equal(await assertSameAsCli(handler, event, { label: 'mrap' }), 'forward');
    const first = (await invoke(handler, event)).result;
    const second = (await invoke(handler, event)).result;
    const authorization = (r) => r.headers.authorization[0].value;
    assert.match(authorization(first), /^AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE\/20150830\/s3\/aws4_request, SignedHeaders=host;x-amz-cf-id;x-amz-content-sha256;x-amz-date;x-amz-region-set;x-amz-security-token, Signature=[0-9a-f]{120,144}$/);
    assert.deepEqual(first.headers['x-amz-region-set'], [{ key: 'X-Amz-Region-Set', value: '*' }]);
    // Randomised ECDSA: two valid signatures, not the same bytes.
    assert.notEqual(authorization(first), authorization(second));
  });

  it('signs with the clock of Date.now(), not a fixed one', async () => {
    const event = JSON.parse(fs.readFileSync(path.join(support.EVENTS, 'origin-request.json')));
    mock.timers.setTime(Date.parse('2024-02-29T23:59:59Z'));
    try {
      const { result } = await invoke(handler, event);
      assert.equal(result.headers['x-amz-date'][0].value, '20240229T235959Z');
      assert.equal(JSON.stringify(result) + '\n', cliSign(JSON.stringify(event), { at: '2024-02-29T23:59:59Z' }).stdout);
    } finally {
      mock.timers.setTime(Date.parse(AT));
    }
  });

  describe('bad events are refused with the CLI\'s message, and name = code = the error kind', () => {
    const base = () => JSON.parse(fs.readFileSync(path.join(support.EVENTS, 'origin-request.json')));
    const cases = {
      undefined: undefined,
      null: null,
      'a string': 'origin-request',
      'a number': 42,
      'an array': [base()],
      'an empty object': {},
      'no records': { Records: [] },
      'Records not an array': { Records: { cf: {} } },
      'headers null': (() => { const e = base(); e.Records[0].cf.request.headers = null; return e; })(),
      'header value a number': (() => {
        const e = base(); e.Records[0].cf.request.headers.accept = [{ key: 'Accept', value: 7 }]; return e;
      })(),
      'LF in the uri': (() => { const e = base(); e.Records[0].cf.request.uri = '/a\nb'; return e; })(),
      'header name with a space': (() => {
        const e = base(); e.Records[0].cf.request.headers['x y'] = [{ key: 'X Y', value: '1' }]; return e;
      })(),
      'body encoding unknown': (() => {
        const e = base(); e.Records[0].cf.request.body = { data: 'x', encoding: 'gzip', inputTruncated: false }; return e;
      })(),
      'body not base64': (() => {
        const e = base(); e.Records[0].cf.request.body = { data: '!!!', encoding: 'base64', inputTruncated: false }; return e;
      })(),
    };
    for (const [label, event] of Object.entries(cases)) {
      it(label, async () => {
        assert.equal(await assertSameAsCli(handler, event, { label }), 'error');
      });
    }
  });

  it(`${RANDOM_EVENTS} random events (seed ${SEED}) give exactly what the CLI gives`, async () => {
    const kinds = {};
    let n = 0;
    for (const { label, event } of randomEvents(SEED, RANDOM_EVENTS)) {
      n += 1;
      const kind = await assertSameAsCli(handler, event, { label: `event ${n} (${label}, seed ${SEED})`, n });
      kinds[kind] = (kinds[kind] || 0) + 1;
    }
    // The generator must exercise every outcome, or this test proves less than it claims.
    for (const kind of ['forward', 'respond', 'error']) assert.ok(kinds[kind] >= 10, JSON.stringify(kinds));
  });

  it('reads the credentials once, at load', async () => {
    const event = JSON.parse(fs.readFileSync(path.join(support.EVENTS, 'origin-request.json')));
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'changed-after-load';
    try {
      const { result } = await invoke(handler, event);
      assert.equal(JSON.stringify(result) + '\n', fs.readFileSync(path.join(support.EVENTS, 'origin-request.expected.json'), 'utf8'));
    } finally {
      if (saved === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });

  describe('without credentials every invocation throws MissingCredentials, and nothing is returned', () => {
    const event = () => JSON.parse(fs.readFileSync(path.join(support.EVENTS, 'origin-request.json')));
    const cases = {
      'no variables': {},
      'no secret': { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SESSION_TOKEN: 'token' },
      'empty key id': { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: 'secret' },
    };
    for (const [label, env] of Object.entries(cases)) {
      it(label, async () => {
        const { handler: h } = loadPackage({ env });
        const cli = cliError(cliSign(JSON.stringify(event()), { env }));
        for (const payload of [event(), event(), {}]) {
          const { result, error } = await invoke(h, payload);
          assert.equal(result, undefined);
          assert.equal(error.name, 'MissingCredentials');
          assert.equal(error.code, 'MissingCredentials');
          assert.equal(error.message, cli);
          assert.match(error.message, /AWS_/);
        }
      });
    }
  });

  describe('edge-signer.json beside index.js', () => {
    it('is applied when valid', async () => {
      const config = JSON.stringify({ queryAllowList: ['w'] });
      const { handler: h } = loadPackage({ config });
      const event = JSON.parse(fs.readFileSync(path.join(support.EVENTS, 'query-custom-allow-list.json')));
      const file = path.join(support.unzip('lambda-edge.zip'), 'cfg.json');
      fs.writeFileSync(file, config);
      await assertSameAsCli(h, event, { config: file });
      assert.match((await invoke(h, event)).result.querystring, /^(w=[^&]*&?)*$/);
    });

    for (const [label, config, fragment] of [
      ['an unknown key', '{"queryAlowList": []}', 'unknown field `queryAlowList`'],
      ['not JSON', 'showExif', 'edge-signer.json: expected value'],
      ['a wrong type', '{"queryAllowList": "showExif"}', 'invalid type: string'],
    ]) {
      it(`makes the load fail when it has ${label}`, () => {
        assert.throws(() => loadPackage({ config }), (error) => {
          assert.equal(error.name, 'InvalidConfig');
          assert.equal(error.code, 'InvalidConfig');
          assert.ok(error.message.includes(fragment), error.message);
          return true;
        });
      });
    }
  });
});
