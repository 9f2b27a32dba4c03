// Starts GraphiQL against the endpoint named by the page (data-graphql-path) on the page's own
// origin. Ours, not vendored: it lives in a file so that the page's Content-Security-Policy can
// forbid inline scripts. Loaded after React, ReactDOM, GraphiQL and the explorer plugin.
(function () {
  "use strict";

  const container = document.getElementById("graphiql");

  const httpUrl = new URL(container.dataset.graphqlPath, window.location.href);
  httpUrl.search = "";
  httpUrl.hash = "";
  // graphql-transport-ws on the same host and path: wss: whenever the page itself is https:.
  const subscriptionUrl = new URL(httpUrl.href);
  subscriptionUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

  const fetcher = GraphiQL.createFetcher({
    url: httpUrl.href,
    subscriptionUrl: subscriptionUrl.href,
  });

  // Over WebSocket, the headers editor's object travels as connection_init's payload, a plain
  // JSON object that the server reads by lowercase key, whereas HTTP header names are
  // case-insensitive anyway: lowercasing lets `{"Authorization": ...}` work for both.
  function lowercaseKeys(headers) {
    const lowercased = {};
    for (const [name, value] of Object.entries(headers)) {
      lowercased[name.toLowerCase()] = value;
    }
    return lowercased;
  }

  function fetchWithLowercaseHeaders(params, options) {
    if (options && options.headers) {
      options = Object.assign({}, options, { headers: lowercaseKeys(options.headers) });
    }
    return fetcher(params, options);
  }

  // A shared link opens on its operation (?q=&variables=&operationName=), and the address bar
  // follows the editors so that it can be shared again. The query is `q`, as on strawberry's
  // own page, because the server executes a GET that has `query` instead of serving this page.
  // Headers are left out on purpose: they hold tokens, which do not belong in URLs, browser
  // history or server logs.
  const URL_PARAMETER_OF_PROP = { query: "q", variables: "variables", operationName: "operationName" };
  const parameters = new URLSearchParams(window.location.search);

  function rememberInUrl(name, value) {
    if (value) {
      parameters.set(name, value);
    } else {
      parameters.delete(name);
    }
    const search = parameters.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  // Short lines: the query editor is about 60 characters wide in a laptop's window.
  const DEFAULT_QUERY = `# Pictograph's GraphQL API.
# Run an operation: Ctrl-Enter, or the play button.
#
# To act as a user: run the signUp or logIn mutation,
# then put its token in the Headers tab below:
#   {"Authorization": "Bearer <token>"}
# It goes with every request, and with subscriptions.

query Viewer {
  viewer {
    username
  }
}
`;

  const props = {
    fetcher: fetchWithLowercaseHeaders,
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    defaultQuery: DEFAULT_QUERY,
    onEditQuery: (query) => rememberInUrl(URL_PARAMETER_OF_PROP.query, query),
    onEditVariables: (variables) => rememberInUrl(URL_PARAMETER_OF_PROP.variables, variables),
    onEditOperationName: (name) => rememberInUrl(URL_PARAMETER_OF_PROP.operationName, name),
    defaultEditorToolsVisibility: "headers",
    isHeadersEditorEnabled: true,
    // Keeps the token across reloads, in this browser's localStorage for this origin only.
    shouldPersistHeaders: true,
    inputValueDeprecation: true,
  };
  for (const [prop, parameter] of Object.entries(URL_PARAMETER_OF_PROP)) {
    if (parameters.has(parameter)) {
      props[prop] = parameters.get(parameter);
    }
  }

  ReactDOM.createRoot(container).render(React.createElement(GraphiQL, props));
})();
