"""Planner outputs: offline interactive map, workbook, CSV, GeoPackage, manifest.

- :mod:`layout.outputs.maps` — ``build_map`` / ``write_map`` (self-contained HTML, no CDN);
- :mod:`layout.outputs.excel` — ``write_workbook`` (layout.xlsx), ``write_csvs`` (UTF-8 BOM);
- :mod:`layout.outputs.gpkg` — ``write_geopackage`` (layout.gpkg);
- :mod:`layout.outputs.manifest` — ``write_manifest`` (manifest.json);
- :mod:`layout.outputs.atomic` — temp-file-then-``os.replace`` writes used by all of them;
- :mod:`layout.outputs.escape` / :mod:`layout.outputs.assets` — escaping and asset inlining;
- :mod:`layout.outputs.synthetic_plan` — SYNTHETIC plan-like fixtures for tests and benchmarks.
"""
