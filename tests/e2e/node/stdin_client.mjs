// What the Node clients share: a request read as JSON from stdin, checked, run against the
// URL given as the one argument, and its outcomes written to stdout as JSON lines.

export async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// Runs `run(url, request)` and prints each outcome it returns; exit code 2 for a bad
// invocation (what `usageError(request)` names), 1 when the client itself failed.
export function runFromStdin(name, usageError, run) {
  async function main(argv) {
    const url = argv[0];
    if (!url) {
      process.stderr.write(`usage: node ${name}.mjs <http-url> < request.json\n`);
      return 2;
    }
    const request = JSON.parse(await readStdin());
    const problem = usageError(request);
    if (problem) {
      process.stderr.write(`${problem}\n`);
      return 2;
    }
    for (const outcome of await run(url, request)) {
      process.stdout.write(`${JSON.stringify(outcome)}\n`);
    }
    return 0;
  }

  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`${name} failed: ${error?.stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
