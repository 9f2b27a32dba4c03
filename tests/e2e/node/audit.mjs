// The GraphQL over HTTP spec audit from graphql-http, as the frontend teams run it.
//
// Usage: node audit.mjs <url>
// Prints one JSON line per audit: {id, name, status, reason}, status being "ok", or, for a
// failure, "error" (a MUST), "warn" (a SHOULD) or "notice" (a MAY). A failure also carries
// `response` ({status, contentType, body}) so that the reason can be reproduced. Exits 0 when
// the audit ran, whatever its results; 2 on bad usage, 1 when the audit itself could not run.
import { auditServer } from 'graphql-http';

const BODY_EXCERPT_CHARACTERS = 500; // enough to show a GraphQL error message

async function describeResponse(response) {
  if (!response) return null;
  let body;
  try {
    body = (await response.clone().text()).slice(0, BODY_EXCERPT_CHARACTERS);
  } catch {
    body = null; // the audit already read the body
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body,
  };
}

async function main(argv) {
  const url = argv[0];
  if (!url) {
    process.stderr.write('usage: node audit.mjs <url>\n');
    return 2;
  }
  const results = await auditServer({ url });
  for (const result of results) {
    const line = {
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.status === 'ok' ? null : result.reason,
    };
    if (result.status !== 'ok') line.response = await describeResponse(result.response);
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`audit could not run: ${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
