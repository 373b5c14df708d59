// A minimal Lambda Runtime API loop for Node.js, standing in for the managed Node.js runtime in the
// cold-start benchmark (benches/cold_start.rs). Like the managed runtime it loads the handler module
// at init (`<dir>/index.js`, export `handler`, `dir` = argv[2] or LAMBDA_TASK_ROOT), then asks for
// events and posts each result. Handlers may return a value, a promise, or use the callback.
// Node's own modules only; the managed runtime does more work than this, so this is a lower bound.
'use strict';

const http = require('node:http');
const path = require('node:path');

const API = process.env.AWS_LAMBDA_RUNTIME_API;
if (!API) {
  throw new Error('AWS_LAMBDA_RUNTIME_API is not set');
}
const [HOST, PORT] = API.split(':');
const PREFIX = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

const dir = path.resolve(process.argv[2] || process.env.LAMBDA_TASK_ROOT || '.');
const { handler } = require(path.join(dir, 'index.js'));
if (typeof handler !== 'function') {
  throw new Error(`${dir}/index.js exports no handler function`);
}

function call(method, target, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const request = http.request(
      {
        host: HOST,
        port: PORT,
        method,
        path: PREFIX + target,
        agent,
        headers: data ? { ...headers, 'Content-Length': data.length } : headers,
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(data);
  });
}

function invoke(event, context) {
  return new Promise((resolve, reject) => {
    const done = (error, result) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(event, context, done);
      if (returned && typeof returned.then === 'function') {
        returned.then(resolve, reject);
      } else if (handler.length < 3) {
        resolve(returned);
      }
    } catch (error) {
      reject(error);
    }
  });
}

async function main() {
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    const context = {
      awsRequestId: id,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    try {
      const result = await invoke(JSON.parse(next.body), context);
      await call('POST', `/invocation/${id}/response`, JSON.stringify(result));
    } catch (error) {
      const body = JSON.stringify({
        errorType: (error && error.name) || 'Error',
        errorMessage: String((error && error.message) || error),
      });
      await call('POST', `/invocation/${id}/error`, body, {
        'Lambda-Runtime-Function-Error-Type': 'Unhandled',
      });
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
