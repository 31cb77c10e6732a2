"""Command-line interface ``schoolplan``.

The CLI sits at the edge: it parses arguments, calls the public API and turns project exceptions
into one clear message and a non-zero exit code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

app = typer.Typer(
    name="schoolplan",
    help="School layout planning and enrollment forecasting (default region: 广元市 Guangyuan).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect and validate region data.", no_args_is_help=True)
app.add_typer(data_app, name="data")




@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn exceptions into one message on stderr and an exit code, never a traceback.

    Bad input (every project exception is a ``ValueError``) exits 2; a file-system problem
    exits 1; anything else exits 1 with "internal error" (set ``SCHOOLPLAN_DEBUG=1`` for the
    traceback).
    """
    try:
        yield
    except typer.Exit:
        raise
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except OSError as exc:
        typer.echo(f"error: {exc.filename or ''}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=1) from None
    except Exception as exc:
        if os.environ.get("SCHOOLPLAN_DEBUG"):
            traceback.print_exc()
        typer.echo(f"internal error: {type(exc).__name__}: {exc} "
                   "(set SCHOOLPLAN_DEBUG=1 for details)", err=True)
        raise typer.Exit(code=1) from None


ScenarioOpt = typer.Option(..., "--scenario", "-s", help="Scenario YAML file (see scenarios/).",
                           exists=False)
OutOpt = typer.Option(..., "--out", "-o", help="Output folder (created).")
RegionOpt = typer.Option(None, "--region", "-r",
                         help="Region folder (default: the scenario's, else embedded 广元市).")
DrawsOpt = typer.Option(None, "--draws", help="Monte Carlo draws (default: the scenario's).")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars.")


def _say(msg: str) -> None:
    typer.echo(msg)


@app.command("forecast")
def forecast_cmd(scenario: Path = ScenarioOpt, out: Path = OutOpt, region: Path | None = RegionOpt,
                 draws: int | None = DrawsOpt, quiet: bool = QuietOpt) -> None:
    """Forecast school-age population and demand per township, level and year (tables, plots)."""
    from layout.pipeline import run_scenario
    from layout.scenario import load_scenario

    with friendly_errors():
        sc = load_scenario(scenario)
        res = run_scenario(sc, out, region_path=region, draws=draws, stages=("forecast",),
                           say=_say, progress=not quiet)
        lt = res.outlook.level_totals()
        years = [y for y in (res.region.base_year, 2025, 2030, 2035) if y in set(lt["year"])]
        table = lt[lt["year"].isin(years)].pivot_table(index="level", columns="year",
                                                       values="p50").round(0)
        typer.echo(f"\nProjected demand (P50, pupils) — {sc.name}\n{table.to_string()}")
        typer.echo(f"\nwrote {len(res.files)} files to {out}")


@app.command("optimize")
def optimize_cmd(scenario: Path = ScenarioOpt, out: Path = OutOpt, region: Path | None = RegionOpt,
                 draws: int | None = DrawsOpt, quiet: bool = QuietOpt) -> None:
    """Forecast, then optimise the layout; write plan tables (CSV, GeoPackage) — no map/workbook."""
    from layout.outputs.excel import write_csvs
    from layout.outputs.gpkg import write_geopackage
    from layout.pipeline import run_scenario, summary_text
    from layout.scenario import load_scenario

    with friendly_errors():
        sc = load_scenario(scenario)
        res = run_scenario(sc, out, region_path=region, draws=draws, stages=("forecast", "plan"),
                           say=_say, progress=not quiet)
        write_csvs(res.plan, out)
        write_geopackage(res.plan, res.region.townships, res.region.villages, out / "layout.gpkg")
        typer.echo("\n" + summary_text(res.plan))
        typer.echo(f"\nwrote plan tables to {out}")


@app.command("run")
def run_cmd(scenario: Path = ScenarioOpt, out: Path = OutOpt, region: Path | None = RegionOpt,
            draws: int | None = DrawsOpt, quiet: bool = QuietOpt) -> None:
    """Run a scenario end to end: forecast -> layout plan -> map -> Excel/GeoPackage/CSV."""
    from layout.pipeline import run_scenario, summary_text
    from layout.scenario import load_scenario

    with friendly_errors():
        sc = load_scenario(scenario)
        res = run_scenario(sc, out, region_path=region, draws=draws, say=_say,
                           progress=not quiet)
        if res.region.is_synthetic:
            typer.echo("NOTE: SYNTHETIC region data (layers: "
                       + ", ".join(res.region.synthetic_layers) + ")")
        typer.echo("\n" + summary_text(res.plan))
        t = res.timings
        typer.echo("\ntimings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()))
        typer.echo(f"outputs in {out}: map.html, layout.xlsx, layout.gpkg, *.csv, "
                   "forecast/, manifest.json")


@app.command("compare")
def compare_cmd(
    runs: list[Path] = typer.Argument(..., help="Two or more output folders of `schoolplan run`."),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Folder for comparison.csv/xlsx/map (default: print)."),
) -> None:
    """Compare plans: where the scenarios' decisions differ; decisions common to all are robust."""
    from layout.compare import compare_runs, write_comparison

    with friendly_errors():
        if len(runs) < 2:
            raise ValueError("give at least two output folders to compare")
        table = compare_runs(runs)
        diff = table[~table["robust"]]
        typer.echo(f"{len(table)} school-level decisions; {int(table['robust'].sum())} robust "
                   f"(same in every run), {len(diff)} differ.")
        if len(diff):
            typer.echo(diff.head(40).to_string(index=False))
        if out is not None:
            files = write_comparison(table, runs, out)
            typer.echo(f"wrote {', '.join(str(f) for f in files)}")


@data_app.command("check")
def data_check(
    folder: str | None = typer.Argument(
        None, help="Region folder (default: the embedded 广元市 region data/geo/guangyuan)."
    ),
) -> None:
    """Validate a region folder and print a one-screen summary (exit 2 listing all problems)."""
    from layout.errors import SchoolPlanError
    from layout.region import load_region
    from layout.region.summary import summarise

    try:
        region = load_region(folder)
    except SchoolPlanError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from None
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(summarise(region))
    typer.echo(f"\nOK: {region.path} passed every check.")



def main() -> None:  # pragma: no cover
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
