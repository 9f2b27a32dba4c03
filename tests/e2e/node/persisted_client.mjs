// GraphQL operations through Apollo Client 3's persisted-query link, as frontends send them.
//
// Usage: node persisted_client.mjs <http-url> < request.json
// The request on stdin:
//   {"ids": "sha256" | "sorted-sha256",
//                         "sha256": createPersistedQueryLink({ sha256 }), the automatic
//                         persisted queries link: the hash of the document as sent;
//                         "sorted-sha256": createPersistedQueryLink(
//                         generatePersistedQueryIdsAtRuntime({ sha256 })), the hash of the
//                         document with its definitions sorted, which is the id Apollo's
//                         generate-persisted-query-manifest writes (trusted documents);
//    "useGET"?: true,     useGETForHashedQueries: hashed queries as GET requests
//    "token"?: "...",     sent as `Authorization: Bearer <token>`
//    "steps": [{"document", "variables"?}, ...]}
// Each step is client.query (fetchPolicy network-only) on one client, so the link's own
// cache of hashes carries from step to step as in an application. sha256 is node:crypto's.
// Prints one JSON line per step:
//   {"result": {"data", "errors"?} | null, "error": ApolloError | null,
//    "requests": [{"method", "hash", "sentDocument", "status"}, ...]}
// Exits 0 when every step ran (whatever it returned), 2 on bad usage, 1 when the script failed.
import { createHash } from 'node:crypto';

import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';
import { generatePersistedQueryIdsAtRuntime } from '@apollo/persisted-query-lists';
import { runFromStdin } from './stdin_client.mjs';

const ID_KINDS = new Set(['sha256', 'sorted-sha256']);

// Apollo's warnings go to stderr: stdout is for the JSON lines alone.
for (const level of ['log', 'info', 'debug']) console[level] = console.error;

function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

function describeError(error) {
  if (!error) return null;
  const networkError = error.networkError;
  return {
    name: error.name ?? null,
    message: error.message ?? String(error),
    graphQLErrors: error.graphQLErrors ?? [],
    networkError: networkError
      ? {
          name: networkError.name ?? null,
          message: networkError.message ?? String(networkError),
          statusCode: networkError.statusCode ?? null,
          result: networkError.result ?? null,
        }
      : null,
  };
}

// What each request carried: its method, the hash, and whether the document went too.
function recordingFetch(requests) {
  return async (input, init) => {
    const method = init?.method ?? 'GET';
    let body;
    if (method === 'GET') {
      const params = new URL(String(input)).searchParams;
      body = {
        query: params.get('query') ?? undefined,
        extensions: params.has('extensions') ? JSON.parse(params.get('extensions')) : undefined,
      };
    } else {
      body = JSON.parse(init.body);
    }
    const response = await fetch(input, init);
    requests.push({
      method,
      hash: body.extensions?.persistedQuery?.sha256Hash ?? null,
      sentDocument: typeof body.query === 'string',
      status: response.status,
    });
    return response;
  };
}

function persistedQueryLink(ids, useGET) {
  const hashing = ids === 'sha256' ? { sha256 } : generatePersistedQueryIdsAtRuntime({ sha256 });
  return createPersistedQueryLink({ ...hashing, useGETForHashedQueries: Boolean(useGET) });
}

async function run(url, request) {
  const requests = [];
  const headers = request.token ? { authorization: `Bearer ${request.token}` } : {};
  const client = new ApolloClient({
    link: persistedQueryLink(request.ids, request.useGET).concat(
      new HttpLink({ uri: url, headers, fetch: recordingFetch(requests) }),
    ),
    cache: new InMemoryCache(),
  });
  const outcomes = [];
  try {
    for (const step of request.steps) {
      requests.length = 0;
      let outcome;
      try {
        const result = await client.query({
          query: gql(step.document),
          variables: step.variables,
          fetchPolicy: 'network-only',
        });
        const described = { data: result.data ?? null };
        if (result.errors) described.errors = result.errors;
        outcome = { result: described, error: null };
      } catch (error) {
        if (error?.name !== 'ApolloError') throw error;
        outcome = { result: null, error: describeError(error) };
      }
      outcomes.push({ ...outcome, requests: [...requests] });
    }
  } finally {
    client.stop();
  }
  return outcomes;
}

function usageError(request) {
  if (!ID_KINDS.has(request?.ids)) return `"ids" must be one of ${[...ID_KINDS].join(', ')}`;
  if (!Array.isArray(request.steps) || request.steps.length === 0) {
    return 'the request on stdin needs a non-empty "steps" list';
  }
  for (const step of request.steps) {
    if (typeof step?.document !== 'string') return 'every step needs a "document" string';
  }
  return null;
}

runFromStdin('persisted_client', usageError, run);
