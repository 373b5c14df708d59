'use strict';
// The Lambda@Edge origin-request handler (runtime nodejs20.x or nodejs22.x, handler index.handler):
// a thin shell over the Rust core in edge_signer.node.
//
// At load, once: the execution role's credentials from the environment, and edge-signer.json beside
// this file if there is one (an invalid one makes the load fail, loudly). Per event: one call into
// Rust with the event's JSON and the clock (an included body's data apart, not inside the JSON); the
// result is what `edge-signer sign` prints for the same event. Refused events (and every event when credentials are missing) throw an Error whose name and
// code say why: MalformedEvent, WrongEventType, AmbiguousOrigin, ..., MissingCredentials. CloudFront
// answers the viewer 500; nothing is forwarded.
//
// One log line per event, in Lambda's log format (AWS_LAMBDA_LOG_FORMAT: JSON, else text), at or
// above AWS_LAMBDA_LOG_LEVEL: CloudFront's request id (config.requestId, which the origin sees as
// X-Amz-Cf-Id), the origin, the outcome (forward, the generated status, or the error's kind) and the
// duration. Never a value of the request or of the credentials: no header, no token, no signature,
// no error message (a refusal's message can quote the event; Lambda reports it as the error).
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html

const fs = require('node:fs');
const path = require('node:path');
const { Signer } = require('./edge_signer.node');

function readConfig(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
}

// Lambda reports an error's `name` as its errorType: make it the addon's code.
function named(error) {
  if (typeof error.code === 'string') error.name = error.code;
  return error;
}

const LEVELS = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FATAL: 5 };
const LOG_JSON = process.env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
const LOG_LEVEL = LEVELS[String(process.env.AWS_LAMBDA_LOG_LEVEL).toUpperCase()] ?? LEVELS.INFO;

/** A value for a text line: strings as they are when printable, anything else as JSON. */
function plain(value) {
  return typeof value === 'string' && /^[\x21-\x7e]*$/.test(value) ? value : JSON.stringify(value ?? null);
}

/**
 * Writes the event's line: `event`'s request id and origin (where CloudFront puts them), Lambda's
 * request id, the outcome, a detail (the reason of a generated response, the kind of an error),
 * and the time since `started`. Never a value of the request.
 */
function log(level, event, context, outcome, detailName, detail, started) {
  if (LEVELS[level] < LOG_LEVEL) return;
  const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e3) / 1e3;
  const cf = event?.Records?.[0]?.cf;
  const requestId = cf?.config?.requestId;
  const origin = cf?.request?.origin;
  const fields = [
    ['awsRequestId', context?.awsRequestId],
    ['origin', (origin?.custom ?? origin?.s3)?.domainName],
    ['outcome', outcome],
    [detailName, detail],
    ['durationMs', durationMs],
  ];
  const timestamp = new Date().toISOString();
  let line;
  if (LOG_JSON) {
    line = `{"timestamp":"${timestamp}","level":"${level}","requestId":${JSON.stringify(requestId ?? null)},"message":"origin-request"`;
    for (const [key, value] of fields) if (key && value !== undefined) line += `,"${key}":${JSON.stringify(value)}`;
    line += '}\n';
  } else {
    line = `${timestamp}\t${plain(requestId)}\t${level}\torigin-request`;
    for (const [key, value] of fields) if (key && value !== undefined) line += ` ${key}=${plain(value)}`;
    line += '\n';
  }
  writeLine(Buffer.from(line));
}

/**
 * Writes to stdout with one write(2). Not through process.stdout: its first use sets up a stream
 * (2 ms for a file, up to 16 ms for a pipe), which would be paid by every cold start. When the
 * descriptor is non-blocking and full (EAGAIN), or the write is short, the rest goes through
 * process.stdout, which waits. Any other failure loses the line, never the answer.
 */
function writeLine(bytes) {
  let written = 0;
  try {
    written = fs.writeSync(1, bytes);
  } catch (error) {
    if (error.code !== 'EAGAIN') return;
  }
  if (written < bytes.length) process.stdout.write(bytes.subarray(written));
}

let signer;
try {
  const env = process.env;
  signer = new Signer(
    env.AWS_ACCESS_KEY_ID,
    env.AWS_SECRET_ACCESS_KEY,
    env.AWS_SESSION_TOKEN,
    readConfig(path.join(__dirname, 'edge-signer.json')),
  );
} catch (error) {
  throw named(error);
}

/**
 * The body's data, when it can travel apart from the event's JSON: a string that JSON would carry
 * unchanged (no lone surrogate, which JSON.stringify escapes and the core refuses).
 */
function detachableBody(event) {
  const body = event?.Records?.[0]?.cf?.request?.body;
  const data = body !== null && typeof body === 'object' ? body.data : undefined;
  return typeof data === 'string' && data.length > 0 && data.isWellFormed() ? body : undefined;
}

exports.handler = async function handler(event, context) {
  const started = process.hrtime.bigint();
  // A body (up to 1 MB) goes to the core apart from the event, not through JSON both ways.
  const body = detachableBody(event);
  const data = body?.data;
  let handled;
  try {
    if (body === undefined) {
      // JSON.stringify(undefined) is undefined: send `null`, which the core refuses by name.
      handled = signer.handle(JSON.stringify(event) ?? 'null', Date.now());
    } else {
      body.data = '';
      try {
        handled = signer.handleDetached(JSON.stringify(event), data, Date.now());
      } catch {
        // A refusal's message may name a line and column of the event's JSON: refused again on
        // the whole event, it names them as the CLI does.
      } finally {
        body.data = data;
      }
      handled ??= signer.handle(JSON.stringify(event), Date.now());
    }
  } catch (error) {
    named(error);
    log('ERROR', event, context, 'error', 'errorType', error.name, started);
    throw error;
  }
  const result = JSON.parse(handled.json);
  // A forwarded request carries the body back as it came (the core kept the placeholder).
  if (body !== undefined && (handled.reason === undefined || handled.reason === null)) result.body.data = data;
  if (handled.reason === undefined || handled.reason === null) {
    log('INFO', event, context, 'forward', undefined, undefined, started);
  } else {
    log('WARN', event, context, result.status, 'reason', handled.reason, started);
  }
  return result;
};
