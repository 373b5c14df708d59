'use strict';
// Per event, as Lambda@Edge runs it: the Lambda@Edge package's `handler(event, context)` (JSON
// conversion, the Rust core and the log line included) against the `@smithy/signature-v4` peer
// (peers/node-smithy), side by side in one process on the same parsed event, awaited as the runtime
// awaits it. Rounds interleave the implementations in a new shuffled order each time, so the noise
// of a shared machine falls on all of them alike.
//
// With --runtime-json, each call also does what the Lambda runtime does around a handler: JSON.parse
// of the event's text before, JSON.stringify of the result after (the same cost for every
// implementation).
//
// Usage: node node/bench/per-event.js [--rounds N] [--calls N] [--event FILE] [--runtime-json]
//          [--token-length N] [--body-kb N] LABEL=DIR... >/dev/null
//   DIR holds index.js (a package, such as dist/lambda-edge.zip unzipped, or peers/node-smithy).
//   Results go to stderr; stdout receives the handlers' log lines (one per event), which cost what
//   they cost in Lambda.
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const ROOT = path.resolve(__dirname, '../..');
// The credentials of the shipped goldens (vectors/events/README.md): not real secrets.
// --token-length N: a session token of N characters instead (a role's token is about 1,000).
process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
process.env.AWS_SESSION_TOKEN = '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const [, value] = args.splice(at, 2);
  return value;
};
const ROUNDS = Number(option('--rounds', 15));
const tokenLength = option('--token-length', undefined);
if (tokenLength !== undefined) process.env.AWS_SESSION_TOKEN = 'IQoJb3JpZ2luX2VjE'.padEnd(Number(tokenLength), 'A');
const CALLS = Number(option('--calls', 5000));
const eventFile = option('--event', path.join(ROOT, 'vectors/events/origin-request.json'));
// --body-kb N: the event becomes a POST whose body (N KiB, base64 as CloudFront sends it with
// "include body") the handler must hash.
const bodyKb = option('--body-kb', undefined);
const runtimeJson = args.includes('--runtime-json');
if (runtimeJson) args.splice(args.indexOf('--runtime-json'), 1);
if (args.length === 0 || args.some((a) => !a.includes('='))) {
  console.error('usage: node node/bench/per-event.js [--rounds N] [--calls N] [--event FILE] LABEL=DIR... >/dev/null');
  process.exit(2);
}
const implementations = args.map((arg) => {
  const [label, dir] = arg.split(/=(.*)/s);
  return { label, handler: require(path.resolve(dir, 'index.js')).handler, rounds: [] };
});
const eventObject = JSON.parse(fs.readFileSync(eventFile, 'utf8'));
if (bodyKb !== undefined) {
  const request = eventObject.Records[0].cf.request;
  const bytes = Buffer.alloc(Number(bodyKb) * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  request.method = 'POST';
  request.body = { inputTruncated: false, action: 'read-only', encoding: 'base64', data: bytes.toString('base64') };
}
const eventText = JSON.stringify(eventObject);
const event = JSON.parse(eventText);
const context = { awsRequestId: 'c0ffee00-0000-4000-8000-000000000001', functionName: 'edge-signer' };

/** Mean µs per awaited call over `CALLS` calls. */
async function time(handler) {
  const start = performance.now();
  if (runtimeJson) {
    for (let i = 0; i < CALLS; i++) JSON.stringify(await handler(JSON.parse(eventText), context));
  } else {
    for (let i = 0; i < CALLS; i++) await handler(event, context);
  }
  return ((performance.now() - start) * 1000) / CALLS;
}

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

(async () => {
  // Every implementation must forward the event signed; same second, same signature.
  const outputs = await Promise.all(implementations.map(({ handler }) => handler(event, context)));
  const header = (output, name) => output.headers?.[name]?.[0]?.value;
  for (const [i, output] of outputs.entries()) {
    const authorization = header(output, 'authorization');
    if (!authorization?.startsWith('AWS4-HMAC-SHA256 ')) {
      throw new Error(`${implementations[i].label} did not sign: ${JSON.stringify(output)}`);
    }
    const [first] = outputs;
    if (header(output, 'x-amz-date') === header(first, 'x-amz-date') && authorization !== header(first, 'authorization')) {
      throw new Error(`${implementations[i].label} and ${implementations[0].label} sign differently`);
    }
  }
  for (const impl of implementations) await time(impl.handler); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const impl of shuffle([...implementations])) impl.rounds.push(await time(impl.handler));
  }
  const base = median(implementations[implementations.length - 1].rounds);
  const mode = runtimeJson ? ', with the runtime\'s JSON.parse and JSON.stringify' : '';
  const body = bodyKb === undefined ? '' : `, POST with a ${bodyKb} KiB base64 body`;
  console.error(`${path.relative(ROOT, eventFile)}${body}${mode}, node ${process.version}: µs per event, median of ${ROUNDS} interleaved rounds of ${CALLS} calls (min-max)`);
  for (const { label, rounds } of implementations) {
    const m = median(rounds);
    const range = `${Math.min(...rounds).toFixed(2)}-${Math.max(...rounds).toFixed(2)}`;
    console.error(`  ${label.padEnd(24)} ${m.toFixed(2).padStart(8)}  (${range})  ${(base / m).toFixed(2)}x faster than ${implementations[implementations.length - 1].label}`);
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
