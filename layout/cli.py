"""Command-line interface ``schoolplan``.

The CLI sits at the edge: it parses arguments, calls the public API and turns exceptions into one
clear message on stderr, never a traceback:

- a project error (bad input: region data, scenario, layout, forecast or optimisation-core input,
  every class of ``layout.errors``, ``forecasting.errors``, ``layout.core.errors``) exits 2;
- a file-system error exits 1 naming the file (``error: <file>: No space left on device``);
- anything else is a bug: exit 1 with ``internal error: <Type>: <message> — traceback written to
  <log>``; the log is ``<out>.schoolplan-error.log`` next to the output folder when there is one
  and it is writable, else a file in the system temporary folder.

``run``, ``optimize`` and ``forecast`` write into a staging folder next to ``--out`` that replaces
the output folder only once every file is written (:func:`layout.outputs.atomic.staged_folder`):
a failed run leaves the previous outputs complete and untouched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    name="schoolplan",
    help="School layout planning and enrollment forecasting (default region: 广元市 Guangyuan).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect, validate and import region data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

ERROR_LOG_SUFFIX = ".schoolplan-error.log"


def project_errors() -> tuple[type[Exception], ...]:
    """The exception classes that mean bad input (exit code 2); every other exception is a bug."""
    from forecasting.errors import ForecastError
    from layout.core.errors import CoreInputError
    from layout.errors import SchoolPlanError
    from schoolsystem.errors import ProjectError

    # SchoolPlanError and ForecastError are ProjectErrors; the core (which knows nothing of the
    # project) has its own CoreInputError
    return (ProjectError, SchoolPlanError, ForecastError, CoreInputError)


def os_error_text(exc: OSError, out: Path | None = None) -> str:
    """``<file>: <reason>`` for a file-system error, naming the file even if ``filename`` is empty.

    The atomic writers put the target file in ``exc.filename`` (or, for an ``OSError`` without an
    errno, in a note ``while writing <file>``); failing both, the output folder is named.
    """
    reason = exc.strerror or (str(exc.args[0]) if exc.args else "") or type(exc).__name__
    target = str(exc.filename or "")
    if not target:
        notes = [n for n in getattr(exc, "__notes__", []) if n.startswith("while writing ")]
        target = notes[-1].removeprefix("while writing ") if notes else ""
    if not target and out is not None:
        target = f"{out} (output folder)"
    if exc.filename2:
        target += f" -> {exc.filename2}"
    return f"{target}: {reason}" if target else f"{type(exc).__name__}: {reason}"


def write_error_log(exc: BaseException, out: Path | None = None) -> Path:
    """Write the full traceback of ``exc`` to a log file and return its path.

    The log is ``<out>.schoolplan-error.log``, next to (not inside: a failed run must not touch the
    previous outputs) the output folder ``out``; if there is no ``out`` or it cannot be written, a
    new ``schoolplan-error-*.log`` in the system temporary folder.
    """
    text = (f"schoolplan {' '.join(sys.argv[1:])}\n\n"
            + "".join(traceback.format_exception(exc)))  # fmt: skip
    if out is not None:
        log = Path(os.path.abspath(out) + ERROR_LOG_SUFFIX)
        try:
            log.write_text(text, encoding="utf-8")
        except OSError:
            pass
        else:
            return log
    handle, name = tempfile.mkstemp(prefix="schoolplan-error-", suffix=".log")
    with os.fdopen(handle, "w", encoding="utf-8") as fh:
        fh.write(text)
    return Path(name)


@contextmanager
def friendly_errors(out: Path | None = None) -> Iterator[None]:
    """Turn exceptions into one message on stderr and an exit code, never a traceback.

    Parameters
    ----------
    out : pathlib.Path, optional
        The command's output folder: named by file-system errors without a file name, and the
        place of the error log of an internal error (see :func:`write_error_log`).

    Notes
    -----
    Project errors (:func:`project_errors`) exit 2; an ``OSError`` exits 1 naming the file; any
    other exception — a bare ``ValueError`` or ``KeyError`` from numpy/pandas included — exits 1
    with ``internal error`` and the path of the traceback log (``SCHOOLPLAN_DEBUG=1`` also prints
    the traceback).

    """
    try:
        yield
    except typer.Exit:
        raise
    except project_errors() as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except OSError as exc:
        typer.echo(f"error: {os_error_text(exc, out)}", err=True)
        raise typer.Exit(code=1) from None
    except Exception as exc:
        if os.environ.get("SCHOOLPLAN_DEBUG"):
            traceback.print_exc()
        log = write_error_log(exc, out)
        typer.echo(f"internal error: {type(exc).__name__}: {exc} — traceback written to {log}",
                   err=True)
        raise typer.Exit(code=1) from None


def _relocate(files: list[Path], stage: Path, out: Path) -> list[Path]:
    """Paths written into the staging folder, as they are once it has become ``out``."""
    moved = []
    for f in files:
        try:
            moved.append(out / Path(f).relative_to(stage))
        except ValueError:
            moved.append(Path(f))
    return moved


def _scenario_path(value: Path) -> Path:
    """``--scenario``: an existing file, else a shipped scenario by name (``baseline``)."""
    from layout.resources import resolve_scenario

    return resolve_scenario(value)


ScenarioOpt = typer.Option(..., "--scenario", "-s", callback=_scenario_path,
                           help="Scenario YAML file, or the name of a shipped scenario "
                           "(`schoolplan scenarios` lists them), e.g. baseline.",
                           exists=False)
OutOpt = typer.Option(..., "--out", "-o", help="Output folder (created).")
RegionOpt = typer.Option(None, "--region", "-r",
                         help="Region folder (default: the scenario's, else embedded 广元市).")
DrawsOpt = typer.Option(None, "--draws", help="Monte Carlo draws (default: the scenario's).")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars (nor the scheduler line).")
SchedulerOpt = typer.Option("local", "--scheduler",
                            help="Where the forecast's pieces, the plan's sub-problems and the "
                            "workbooks are made: local (default: a Dask LocalCluster, one worker "
                            "process per core), none (in-process; the same files) or a Dask "
                            "scheduler address tcp://HOST:PORT.")
WorkersOpt = typer.Option(None, "--workers", min=1,
                          help="Worker processes of --scheduler local (default: one per core).")
ThreadsOpt = typer.Option(None, "--threads", min=1,
                          help="Solver threads (overrides the scenario's solver.threads).")


def _with_threads(sc: Any, threads: int | None) -> Any:
    """The scenario with ``solver.threads`` replaced by ``--threads`` (if given)."""
    import dataclasses

    if threads is None:
        return sc
    return dataclasses.replace(sc, solver=sc.solver.model_copy(update={"threads": threads}))


def _say(msg: str) -> None:
    typer.echo(msg)


@app.command("forecast")
def forecast_cmd(scenario: Path = ScenarioOpt, out: Path = OutOpt, region: Path | None = RegionOpt,
                 draws: int | None = DrawsOpt, quiet: bool = QuietOpt) -> None:
    """Forecast school-age population and demand per township, level and year (tables, plots)."""
    from layout.outputs.atomic import staged_folder
    from layout.pipeline import run_scenario
    from layout.scenario import load_scenario

    with friendly_errors(out):
        sc = load_scenario(scenario)
        with staged_folder(out) as stage:
            res = run_scenario(sc, stage, region_path=region, draws=draws, stages=("forecast",),
                               say=_say, progress=not quiet)
        res.files = _relocate(res.files, stage, out)
        lt = res.require_outlook().level_totals()
        years = [y for y in (res.region.base_year, 2025, 2030, 2035) if y in set(lt["year"])]
        table = lt[lt["year"].isin(years)].pivot_table(index="level", columns="year",
                                                       values="p50").round(0)
        typer.echo(f"\nProjected demand (P50, pupils) — {sc.name}\n{table.to_string()}")
        typer.echo(f"\nwrote {len(res.files)} files to {out}")


def _run_staged(
    scenario: Path, out: Path, region: Path | None, draws: int | None, quiet: bool,
    scheduler: str, workers: int | None, threads: int | None,
    stages: tuple[str, ...] | None = None, finish: Any = None,
) -> Any:
    """Run a scenario into a staging folder swapped into ``out`` at the end.

    ``finish(res, stage)`` may add files to the staging folder before the swap. Returns the
    RunResult with the files' final paths.
    """
    from layout.distributed import describe, executor_for, open_client
    from layout.outputs.atomic import staged_folder
    from layout.pipeline import run_scenario
    from layout.scenario import load_scenario

    sc = _with_threads(load_scenario(scenario), threads)
    extra = {} if stages is None else {"stages": stages}
    with open_client(scheduler, workers=workers, say=_say) as client, \
            staged_folder(out) as stage:
        if client is not None and not quiet:
            typer.echo(describe(client))
        res = run_scenario(sc, stage, region_path=region, draws=draws, say=_say,
                           progress=not quiet, executor=executor_for(client, progress=not quiet),
                           **extra)
        if finish is not None:
            finish(res, stage)
    res.files = _relocate(res.files, stage, out)
    return res


@app.command("optimize")
def optimize_cmd(scenario: Path = ScenarioOpt, out: Path = OutOpt, region: Path | None = RegionOpt,
                 draws: int | None = DrawsOpt, quiet: bool = QuietOpt,
                 scheduler: str = SchedulerOpt, workers: int | None = WorkersOpt,
                 threads: int | None = ThreadsOpt) -> None:
    """Forecast, then optimise the layout; write plan tables (CSV, GeoPackage) — no map/workbook."""
    from layout.outputs.excel import write_csvs
    from layout.outputs.gpkg import write_geopackage
    from layout.pipeline import summary_text

    def plan_tables(res: Any, stage: Path) -> None:
        plan = res.require_plan()
        res.files += write_csvs(plan, stage)
        res.files.append(write_geopackage(plan, res.region.townships, res.region.villages,
                                          stage / "layout.gpkg"))

    with friendly_errors(out):
        res = _run_staged(scenario, out, region, draws, quiet, scheduler, workers, threads,
                          stages=("forecast", "plan"), finish=plan_tables)
        plan = res.require_plan()
        typer.echo("\n" + summary_text(plan))
        typer.echo(f"\nwrote plan tables to {out}")


def _optional_scenario_path(value: Path | None) -> Path | None:
    """``--scenario`` of ``run``: optional there (``--robust`` takes the scenarios instead)."""
    return None if value is None else _scenario_path(value)


RunScenarioOpt = typer.Option(None, "--scenario", "-s", callback=_optional_scenario_path,
                              help="Scenario YAML file, or the name of a shipped scenario "
                              "(`schoolplan scenarios` lists them), e.g. baseline.")
RobustOpt = typer.Option(False, "--robust",
                         help="One staged plan robust to the SCENARIOS given as arguments (or "
                         "one file with a 'robust: {scenarios: [...]}' block): a first stage "
                         "(decisions up to the first milestone) common to all, later decisions "
                         "per scenario, each scenario's regret; writes OUT/<scenario>/ and "
                         "OUT/robust/.")
RobustArgs = typer.Argument(None, metavar="SCENARIOS", show_default=False,
                            help="With --robust: the scenario files (or shipped names).")


@app.command("run")
def run_cmd(scenario: Path | None = RunScenarioOpt, out: Path = OutOpt,
            region: Path | None = RegionOpt, draws: int | None = DrawsOpt,
            quiet: bool = QuietOpt, scheduler: str = SchedulerOpt,
            workers: int | None = WorkersOpt, threads: int | None = ThreadsOpt,
            robust: bool = RobustOpt, scenarios: list[Path] | None = RobustArgs) -> None:
    """Run a scenario end to end: forecast -> layout plan -> map -> Excel/GeoPackage/CSV.

    With --robust: several scenarios' staged plans sharing one first stage, and their regrets.
    """
    from layout.pipeline import summary_text

    if robust or scenarios:
        _run_robust(scenario, list(scenarios or []), robust, out, region, draws, quiet, threads)
        return
    if scenario is None:
        typer.echo("error: Missing option '--scenario' / '-s' (or --robust SCENARIOS...)",
                   err=True)
        raise typer.Exit(code=2)
    with friendly_errors(out):
        res = _run_staged(scenario, out, region, draws, quiet, scheduler, workers, threads)
        if res.region.is_synthetic:
            typer.echo("NOTE: SYNTHETIC region data (layers: "
                       + ", ".join(res.region.synthetic_layers) + ")")
        typer.echo("\n" + summary_text(res.require_plan()))
        t = res.timings
        typer.echo("\ntimings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()))
        typer.echo(f"outputs in {out}: map.html, layout.xlsx, layout.gpkg, *.csv, "
                   "forecast/, manifest.json")


def _run_robust(scenario: Path | None, scenarios: list[Path], robust: bool, out: Path,
                region: Path | None, draws: int | None, quiet: bool,
                threads: int | None) -> None:
    """``run --robust``: the staged plans of several scenarios with a common first stage."""
    from layout.outputs.atomic import staged_folder
    from layout.robust_run import run_robust, summary_text

    if not robust or scenario is not None or not scenarios:
        typer.echo("error: a robust run is `schoolplan run --robust SCENARIO SCENARIO... --out "
                   "OUT` (the scenario files as arguments, no --scenario)", err=True)
        raise typer.Exit(code=2)
    with friendly_errors(out):
        with staged_folder(out) as stage:
            res = run_robust(scenarios, stage, region_path=region, draws=draws, threads=threads,
                             say=_say, progress=not quiet)
        res.files = _relocate(res.files, stage, out)
        typer.echo("\n" + summary_text(res))
        typer.echo("\ntimings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in res.timings.items()))
        typer.echo(f"outputs in {out}: robust/ (regret.csv, first_stage.csv, candidates.csv, "
                   f"shares.csv, summary.md), and per scenario "
                   f"{', '.join(s.slug + '/' for s in res.scenarios)}")


@app.command("batch")
def batch_cmd(
    scenarios: list[Path] = typer.Argument(..., help="Scenario files (or shipped names), e.g. "
                                           "scenarios/*.yaml."),
    out: Path = OutOpt, region: Path | None = RegionOpt, draws: int | None = DrawsOpt,
    quiet: bool = QuietOpt, scheduler: str = SchedulerOpt, workers: int | None = WorkersOpt,
    threads: int | None = ThreadsOpt,
    parallel: int | None = typer.Option(None, "--parallel", min=1,
                                        help="Scenarios in flight at once on a cluster "
                                        "(default: all, at most 4)."),
) -> None:
    """Run several scenarios (OUT/<name>/ each); their counties share one Dask cluster."""
    from layout.batch import run_batch
    from layout.distributed import describe, open_client

    def error_text(exc: BaseException, folder: Path) -> str:
        if isinstance(exc, project_errors()):
            return str(exc)
        if isinstance(exc, OSError):
            return os_error_text(exc, folder)
        return (f"internal error: {type(exc).__name__}: {exc} — traceback written to "
                f"{write_error_log(exc, folder)}")

    with friendly_errors(out):
        paths = [_scenario_path(s) for s in scenarios]
        with open_client(scheduler, workers=workers, say=_say) as client:
            typer.echo(describe(client))
            items = run_batch(paths, out, region=region, draws=draws, threads=threads,
                              client=client, parallel=parallel, progress=not quiet, say=_say,
                              error_text=error_text)
    failed = [i for i in items if not i.ok]
    typer.echo(f"\n{len(items) - len(failed)} of {len(items)} scenarios written to {out}")
    for item in failed:
        typer.echo(f"FAILED {item.scenario}: {item.error}", err=True)
    if failed:
        raise typer.Exit(code=1)


@app.command("compare")
def compare_cmd(
    runs: list[Path] = typer.Argument(..., help="Two or more output folders of `schoolplan run`."),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Folder for comparison.csv/xlsx/map (default: print)."),
) -> None:
    """Compare plans: where the scenarios' decisions differ; decisions common to all are robust."""
    from layout.compare import CompareError, compare_runs, write_comparison

    with friendly_errors(out):
        if len(runs) < 2:
            raise CompareError("give at least two output folders to compare")
        table = compare_runs(runs)
        diff = table[~table["robust"]]
        typer.echo(f"{len(table)} school-level decisions; {int(table['robust'].sum())} robust "
                   f"(same in every run), {len(diff)} differ.")
        if len(diff):
            typer.echo(diff.head(40).to_string(index=False))
        if out is not None:
            files = write_comparison(table, runs, out)
            typer.echo(f"wrote {', '.join(str(f) for f in files)}")


@app.command("scenarios")
def scenarios_cmd() -> None:
    """List the scenarios shipped with the package (usable by name: --scenario baseline)."""
    from layout.resources import shipped_scenarios

    for name, path in shipped_scenarios().items():
        typer.echo(f"{name:<20} {path}")


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

    with friendly_errors():
        try:
            region = load_region(folder)
        except SchoolPlanError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(code=2) from None
        except OSError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        typer.echo(summarise(region))
        derived = region.meta.get("derived_layers") or []
        if derived:  # written by `data import`: say which layers are derived, not given
            typer.echo("DERIVED layers 推算图层: " + ", ".join(map(str, derived))
                       + " (methods in region.yaml: derivations)")
    typer.echo(f"\nOK: {region.path} passed every check.")


@data_app.command("template")
def data_template(
    out: Path = typer.Argument(..., help="Workbook to write, e.g. 学校布局数据.xlsx."),
) -> None:
    """Write the blank input workbook: one sheet per table, drop-down lists, examples, 说明."""
    from layout.ingest.xlsx_out import write_workbook

    with friendly_errors():
        write_workbook(out)
    typer.echo(f"wrote {out}: fill it in, then `schoolplan data import {out} --out FOLDER`")


@data_app.command("import")
def data_import(
    workbook: Path = typer.Argument(..., help="The filled input workbook (.xlsx)."),
    out: Path = OutOpt,
    crs: str | None = typer.Option(None, "--crs", help="Coordinate system of the workbook's "
                                   "points: wgs84, gcj02 (AMap) or bd09 (Baidu); default: the "
                                   "地区 sheet's 坐标系, else wgs84."),
    boundaries: Path = typer.Option(..., "--boundaries", help="County boundaries (GeoJSON or "
                                    "GeoPackage with county_code, WGS84)."),
    townships: Path | None = typer.Option(None, "--townships", help="Township polygons "
                                          "(township_code, WGS84); default: Voronoi cells of "
                                          "the township seats, flagged derived."),
) -> None:
    """Import a filled workbook into a region folder (derived layers recorded in region.yaml)."""
    from layout.ingest.importer import ImportOptions, import_workbook
    from layout.ingest.template import CRS_CHOICES

    with friendly_errors(out):
        if crs is not None and crs not in CRS_CHOICES:
            typer.echo(f"error: --crs {crs!r}: one of {', '.join(CRS_CHOICES)}", err=True)
            raise typer.Exit(code=2)
        res = import_workbook(workbook, out, ImportOptions(crs=crs, boundaries=boundaries,
                                                           townships=townships))
        typer.echo(f"given layers: {', '.join(res.given)}")
        for layer, method in sorted(res.derived.items()):
            typer.echo(f"DERIVED {layer}: {method}")
        for note in res.notes:
            typer.echo(note)
    typer.echo(f"\nOK: wrote region folder {out}; check it with `schoolplan data check {out}`")


def main() -> None:  # pragma: no cover
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
