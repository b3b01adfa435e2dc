"""GraphiQL served from the CMS's own origin (page.py), with its pinned browser files
fetched from the npm registry by fetch_assets.py."""
