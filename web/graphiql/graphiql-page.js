// The CMS's GraphiQL page (web/graphiql/page.py): GraphiQL with the explorer plugin,
// opening on the example queries and talking to the URL it was served from. A file,
// not an inline script: the page's CSP allows scripts of its own origin only.
"use strict";

(function () {
  var configElement = document.getElementById("graphiql-config");
  var config = JSON.parse(configElement.textContent);

  // The <style> elements GraphiQL adds (the scroll lock of its dialogs and menus)
  // take this nonce, which the page's CSP allows: read where webpack's libraries look.
  window.__webpack_nonce__ = configElement.nonce;

  // The editor's headers (a bearer token) stay out of localStorage unless the editor
  // turns "Persist headers" on in GraphiQL's settings (the gear; kept from the next
  // run on), or opens the page with ?persistHeaders=true; ?persistHeaders=false turns
  // it off again.
  var PERSIST_KEY = "graphiql:shouldPersistHeaders";
  var persist = false;
  try {
    var asked = new URLSearchParams(window.location.search).get("persistHeaders");
    if (asked === "true" || asked === "false") {
      window.localStorage.setItem(PERSIST_KEY, asked);
    }
    persist = window.localStorage.getItem(PERSIST_KEY) === "true";
  } catch (storageRefused) {
    persist = false; // storage disabled: nothing is persisted anyway
  }

  // GraphiQL's own switch covers the headers editor and the tabs, but its history
  // ("graphiql:queries") keeps every run's headers regardless: what GraphiQL stores
  // passes through here and loses its headers while the switch is off.
  function withoutHeaders(key, value) {
    if (key === "graphiql:headers") {
      return null;
    }
    try {
      return JSON.stringify(JSON.parse(value), function (name, member) {
        return name === "headers" ? "" : member;
      });
    } catch (notJson) {
      return value; // plain text (the query, the operation name)
    }
  }

  var storage = {
    getItem: function (key) {
      return window.localStorage.getItem(key);
    },
    setItem: function (key, value) {
      var persisting = window.localStorage.getItem(PERSIST_KEY) === "true";
      var kept = persisting || key === PERSIST_KEY ? value : withoutHeaders(key, value);
      if (kept === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, kept);
      }
    },
    removeItem: function (key) {
      window.localStorage.removeItem(key);
    },
    clear: function () {
      Object.keys(window.localStorage)
        .filter(function (key) {
          return key.indexOf("graphiql:") === 0;
        })
        .forEach(function (key) {
          window.localStorage.removeItem(key);
        });
    },
    get length() {
      return Object.keys(window.localStorage).filter(function (key) {
        return key.indexOf("graphiql:") === 0;
      }).length;
    },
  };

  if (!persist) {
    // Forget headers stored before: by an older page (Strawberry's kept them) or
    // while the switch was on.
    Object.keys(window.localStorage).forEach(function (key) {
      if (key.indexOf("graphiql:") === 0) {
        storage.setItem(key, window.localStorage.getItem(key));
      }
    });
  }

  var fetcher = GraphiQL.createFetcher({
    url: window.location.origin + window.location.pathname,
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      defaultQuery: config.defaultQuery,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      inputValueDeprecation: true,
      // undefined rather than false: GraphiQL then shows its "Persist headers"
      // switch, starts with headers not persisted and clears what an older page
      // stored (Strawberry's page persisted them).
      shouldPersistHeaders: persist ? true : undefined,
    }),
  );
})();
