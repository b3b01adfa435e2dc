"""The HTTP edge: the app, routes, middleware, the GraphQL view, persisted queries,
the response cache and HTTP cache headers, and the media routes. The only package
that imports Starlette."""
