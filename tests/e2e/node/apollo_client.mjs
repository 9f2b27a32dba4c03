// GraphQL operations through Apollo Client 3 (HttpLink, InMemoryCache), as frontends run them.
//
// Usage: node apollo_client.mjs <http-url> < request.json
// The request on stdin:
//   {"token"?: "...",               sent as `Authorization: Bearer <token>` on every request
//    "headers"?: {...},             more HttpLink headers, over Apollo's defaults (`accept`)
//    "relayPagination"?: {"Query": {"feed": ["order"]}},
//                                   fields that get `relayStylePagination(keyArgs)`
//    "steps": [Step, ...]}          run in order against one client and one cache
// A step: {"kind", "document"?, "variables"?, "fetchPolicy"?, "connection"?}, its kind one of
//   "query", "mutate"  client.query / client.mutate with the document;
//   "watchQuery"       client.watchQuery, subscribed until the last step, first result reported;
//   "fetchMore"        the last watched query's fetchMore, `after` being the pageInfo.endCursor
//                      of its root field `connection` (e.g. "feed"); reports the merged result;
//   "extractCache"     reports the normalised cache, `cache.extract()`, as its data.
// Prints one JSON line per step:
//   {"kind", "result": {"data", "errors"?} | null, "error": ApolloError | null,
//    "requests": [{"accept", "status", "contentType"}, ...]}   the HTTP requests the step made
// Exits 0 when every step ran (whatever it returned), 2 on bad usage, 1 when the script failed.
//
// Apollo Client 3 has no `exports` map, so native Node ESM cannot import the directory
// `@apollo/client/core` (ERR_UNSUPPORTED_DIR_IMPORT, apollographql/apollo-client#11569):
// the entry points are imported by their ESM files.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { relayStylePagination } from '@apollo/client/utilities/index.js';
import { runFromStdin } from './stdin_client.mjs';

const STEP_KINDS = new Set(['query', 'mutate', 'watchQuery', 'fetchMore', 'extractCache']);
const STEPS_WITHOUT_DOCUMENT = new Set(['fetchMore', 'extractCache']);

// Apollo's warnings (cache writes with missing fields, deprecations) go to stderr: stdout is
// for the JSON lines alone.
for (const level of ['log', 'info', 'debug']) console[level] = console.error;

function describeNetworkError(error) {
  if (!error) return null;
  return {
    name: error.name ?? null,
    message: error.message ?? String(error),
    statusCode: error.statusCode ?? null,
    result: error.result ?? null, // ServerError: the parsed body
    bodyText: error.bodyText ?? null, // ServerParseError: the body that was not JSON
  };
}

function describeError(error) {
  if (!error) return null;
  return {
    name: error.name ?? null,
    message: error.message ?? String(error),
    graphQLErrors: error.graphQLErrors ?? [],
    protocolErrors: error.protocolErrors ?? [],
    clientErrors: (error.clientErrors ?? []).map((clientError) => String(clientError)),
    networkError: describeNetworkError(error.networkError),
  };
}

function describeResult(result) {
  const described = { data: result.data ?? null };
  if (result.errors) described.errors = result.errors;
  return described;
}

function recordingFetch(requests) {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    const response = await fetch(input, init);
    requests.push({
      accept: headers.get('accept'),
      status: response.status,
      contentType: response.headers.get('content-type'),
    });
    return response;
  };
}

function createCache(relayPagination) {
  const typePolicies = {};
  for (const [typeName, fields] of Object.entries(relayPagination ?? {})) {
    typePolicies[typeName] = {
      fields: Object.fromEntries(
        Object.entries(fields).map(([field, keyArgs]) => [field, relayStylePagination(keyArgs)]),
      ),
    };
  }
  return new InMemoryCache({ typePolicies });
}

// Subscribes (as a UI would) and exposes the first settled result; later ones, such as
// fetchMore's merge, are read with getCurrentResult().
function watch(observable) {
  let resolveFirst;
  let rejectFirst;
  const first = new Promise((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
  });
  const subscription = observable.subscribe({
    next(result) {
      if (!result.loading) resolveFirst(result);
    },
    error: rejectFirst,
  });
  return { observable, subscription, first };
}

async function runStep(client, step, watched) {
  const document = step.document === undefined ? undefined : gql(step.document);
  // Only what the step names: Apollo's defaults (fetchPolicy cache-first) for the rest.
  const options = {};
  if (step.variables !== undefined) options.variables = step.variables;
  if (step.fetchPolicy !== undefined) options.fetchPolicy = step.fetchPolicy;
  switch (step.kind) {
    case 'query':
      return client.query({ query: document, ...options });
    case 'mutate':
      return client.mutate({ mutation: document, variables: options.variables });
    case 'watchQuery': {
      const watching = watch(client.watchQuery({ query: document, ...options }));
      watched.push(watching);
      return watching.first;
    }
    case 'fetchMore': {
      const last = watched.at(-1);
      if (!last) throw new Error('fetchMore needs a watchQuery step before it');
      // As an application pages: `after` is the endCursor of what it shows now.
      const shown = last.observable.getCurrentResult().data;
      const after = shown?.[step.connection]?.pageInfo?.endCursor;
      if (typeof after !== 'string') {
        const seen = JSON.stringify(shown);
        throw new Error(`no ${step.connection}.pageInfo.endCursor to page after in ${seen}`);
      }
      await last.observable.fetchMore({ variables: { ...step.variables, after } });
      return last.observable.getCurrentResult();
    }
    case 'extractCache':
      return { data: client.cache.extract() };
    default:
      throw new Error(`unknown step kind ${step.kind}`);
  }
}

async function run(url, request) {
  const requests = [];
  const headers = { ...(request.headers ?? {}) };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  const client = new ApolloClient({
    link: new HttpLink({ uri: url, headers, fetch: recordingFetch(requests) }),
    cache: createCache(request.relayPagination),
  });
  const watched = [];
  const outcomes = [];
  try {
    for (const step of request.steps) {
      requests.length = 0;
      let outcome;
      try {
        const result = await runStep(client, step, watched);
        outcome = { kind: step.kind, result: describeResult(result), error: null };
      } catch (error) {
        if (error?.name !== 'ApolloError') throw error;
        outcome = { kind: step.kind, result: null, error: describeError(error) };
      }
      outcomes.push({ ...outcome, requests: [...requests] });
    }
  } finally {
    for (const { subscription } of watched) subscription.unsubscribe();
    client.stop();
  }
  return outcomes;
}

function usageError(request) {
  if (!Array.isArray(request?.steps) || request.steps.length === 0) {
    return 'the request on stdin needs a non-empty "steps" list';
  }
  for (const step of request.steps) {
    if (!STEP_KINDS.has(step?.kind)) return `a step of unknown kind: ${JSON.stringify(step)}`;
    if (step.kind === 'fetchMore' && typeof step.connection !== 'string') {
      return 'a fetchMore step needs a "connection" string: the root field to page';
    }
    if (!STEPS_WITHOUT_DOCUMENT.has(step.kind) && typeof step.document !== 'string') {
      return `a ${step.kind} step needs a "document" string`;
    }
  }
  return null;
}

runFromStdin('apollo_client', usageError, run);
