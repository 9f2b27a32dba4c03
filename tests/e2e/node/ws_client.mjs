// One GraphQL operation over graphql-transport-ws, with graphql-ws's own client.
//
// Usage: node ws_client.mjs <ws-url> < request.json
// The request on stdin: {"query": "...", "variables"?: {...}, "operationName"?: "...",
// "connectionParams"?: {...}, "take"?: n}. `take` stops a subscription after n results.
// Prints one JSON line, the outcome:
//   {"results": [ExecutionResult, ...]}   the operation ran (one result for a query),
//   {"errors": [GraphQLError, ...]}       the server refused the operation (an `error` message),
//   {"closed": {"code": n, "reason": s}}  the socket closed first (4403: connection_init refused).
// Exits 0 with an outcome, 2 on bad usage, 1 when the client itself failed.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { readStdin } from './stdin_client.mjs';

// The server must acknowledge connection_init quickly; the pytest side has its own timeout too.
const CONNECTION_ACK_TIMEOUT_MS = 10_000;

function isCloseEvent(value) {
  return value !== null && typeof value === 'object' && 'code' in value && 'reason' in value;
}

function run(url, request) {
  const { query, variables, operationName, connectionParams, take } = request;
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0, // a refused connection is the answer under test, not a hiccup to retry
    connectionAckWaitTimeout: CONNECTION_ACK_TIMEOUT_MS,
    lazy: true,
  });
  const results = [];
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      client.dispose();
      resolve(outcome);
    };
    const unsubscribe = client.subscribe(
      { query, variables, operationName },
      {
        next(result) {
          results.push(result);
          if (take !== undefined && results.length >= take) settle({ results });
        },
        error(error) {
          if (isCloseEvent(error)) {
            settle({ closed: { code: error.code, reason: String(error.reason) } });
          } else if (Array.isArray(error)) {
            settle({ errors: error });
          } else {
            settle({ failure: String(error?.message ?? error) });
          }
        },
        complete() {
          settle({ results });
        },
      },
    );
  });
}

async function main(argv) {
  const url = argv[0];
  if (!url) {
    process.stderr.write('usage: node ws_client.mjs <ws-url> < request.json\n');
    return 2;
  }
  const request = JSON.parse(await readStdin());
  if (typeof request.query !== 'string') {
    process.stderr.write('the request on stdin needs a "query" string\n');
    return 2;
  }
  const outcome = await run(url, request);
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  return 'failure' in outcome ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`ws_client failed: ${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
