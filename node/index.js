'use strict';
// The Lambda@Edge origin-request handler (runtime nodejs20.x or nodejs22.x, handler index.handler):
// a thin shell over the Rust core in edge_signer.node.
//
// At load, once: the execution role's credentials from the environment, and edge-signer.json beside
// this file if there is one (an invalid one makes the load fail, loudly). Per event: one call into
// Rust with the event's JSON and the clock; the result is what `edge-signer sign` prints for the same
// event. Refused events (and every event when credentials are missing) throw an Error whose name and
// code say why: MalformedEvent, WrongEventType, AmbiguousOrigin, ..., MissingCredentials. CloudFront answers the viewer 500; nothing is
// forwarded.

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

exports.handler = async function handler(event, _context) {
  let outcome;
  try {
    // JSON.stringify(undefined) is undefined: send `null`, which the core refuses by name.
    outcome = signer.handle(JSON.stringify(event) ?? 'null', Date.now());
  } catch (error) {
    throw named(error);
  }
  return JSON.parse(outcome);
};
