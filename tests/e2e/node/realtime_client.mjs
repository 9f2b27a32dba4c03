// Apollo Client 3 as a frontend wires it for realtime: a split link sending subscriptions
// over graphql-ws (GraphQLWsLink, `ws` as the WebSocket) and everything else over HttpLink.
//
// Usage: node realtime_client.mjs <http-url> < request.json   (the WebSocket URL is the same
// path with ws://)
// The request on stdin:
//   {"token": "...",                       the viewer: HTTP header and connection_init payload
//    "query": {"document", "variables"?},  run once, first
//    "mutation": {"document", "variables"?},  run once, after the query
//    "subscriptions": [Subscription, ...]}
// A subscription: {"name", "document", "variables"?, "trigger": [Mutation, ...]}: it is
// subscribed, then its trigger (mutations, each {"document", "variables"?, "token"}, a
// variable whose value is "<fresh>" replaced by a new random string each time) runs again
// every TRIGGER_INTERVAL_MS until the subscription receives its first result: the protocol
// never says when a subscription has started, and what is published before that is not its.
// Prints one JSON line per step: {"kind": "query" | "mutation" | "subscription", "name"?,
// "result": {"data", "errors"?} | null, "error": {...} | null, "triggered"?: n}.
// Exits 0 when every step ran (whatever it returned), 2 on bad usage, 1 when the script failed.
import { ApolloClient, HttpLink, InMemoryCache, gql, split } from '@apollo/client/core/index.js';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions/index.js';
import { getMainDefinition } from '@apollo/client/utilities/index.js';
import { createClient } from 'graphql-ws';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { runFromStdin } from './stdin_client.mjs';

const TRIGGER_INTERVAL_MS = 300;
const MAX_TRIGGERS = 30;

for (const level of ['log', 'info', 'debug']) console[level] = console.error;

function describeError(error) {
  if (!error) return null;
  return {
    name: error.name ?? null,
    message: error.message ?? String(error),
    graphQLErrors: error.graphQLErrors ?? [],
  };
}

function describeResult(result) {
  const described = { data: result.data ?? null };
  if (result.errors) described.errors = result.errors;
  return described;
}

function fresh(variables) {
  return Object.fromEntries(
    Object.entries(variables ?? {}).map(([name, value]) => [
      name,
      value === '<fresh>' ? randomUUID() : value,
    ]),
  );
}

function createApollo(httpUrl, token) {
  const wsClient = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const httpLink = new HttpLink({ uri: httpUrl, headers: { authorization: `Bearer ${token}` } });
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(wsClient),
    httpLink,
  );
  return { client: new ApolloClient({ link, cache: new InMemoryCache() }), wsClient };
}

async function outcomeOf(kind, promise) {
  try {
    return { kind, result: describeResult(await promise), error: null };
  } catch (error) {
    return { kind, result: null, error: describeError(error) };
  }
}

async function subscribeUntilFirst(client, subscription) {
  let resolveFirst;
  const first = new Promise((resolve) => {
    resolveFirst = resolve;
  });
  const observer = client
    .subscribe({ query: gql(subscription.document), variables: subscription.variables })
    .subscribe({
      next: (result) => resolveFirst({ result: describeResult(result), error: null }),
      error: (error) => resolveFirst({ result: null, error: describeError(error) }),
    });
  let triggered = 0;
  let received = null;
  first.then((outcome) => {
    received = outcome;
  });
  while (received === null && triggered < MAX_TRIGGERS) {
    for (const mutation of subscription.trigger) {
      await client.mutate({
        mutation: gql(mutation.document),
        variables: fresh(mutation.variables),
        context: { headers: { authorization: `Bearer ${mutation.token}` } },
      });
    }
    triggered += 1;
    await Promise.race([first, new Promise((done) => setTimeout(done, TRIGGER_INTERVAL_MS))]);
  }
  observer.unsubscribe();
  const outcome = received ?? { result: null, error: { message: 'nothing was pushed' } };
  return { kind: 'subscription', name: subscription.name, ...outcome, triggered };
}

async function run(url, request) {
  const { client, wsClient } = createApollo(url, request.token);
  const outcomes = [];
  try {
    outcomes.push(
      await outcomeOf(
        'query',
        client.query({ query: gql(request.query.document), variables: request.query.variables }),
      ),
    );
    outcomes.push(
      await outcomeOf(
        'mutation',
        client.mutate({
          mutation: gql(request.mutation.document),
          variables: fresh(request.mutation.variables),
        }),
      ),
    );
    for (const subscription of request.subscriptions) {
      outcomes.push(await subscribeUntilFirst(client, subscription));
    }
  } finally {
    client.stop();
    await wsClient.dispose();
  }
  return outcomes;
}

function usageError(request) {
  if (typeof request?.token !== 'string') return 'the request needs a "token"';
  if (typeof request?.query?.document !== 'string') return 'the request needs a "query"';
  if (typeof request?.mutation?.document !== 'string') return 'the request needs a "mutation"';
  if (!Array.isArray(request?.subscriptions)) return 'the request needs "subscriptions"';
  return null;
}

runFromStdin('realtime_client', usageError, run);
