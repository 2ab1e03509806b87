"""Self-contained HTML reports: inline CSS and SVG only, so they open offline in any browser."""
