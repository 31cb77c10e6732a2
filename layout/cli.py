"""Command-line interface ``schoolplan``.

The CLI sits at the edge: it parses arguments, calls the public API and turns project exceptions
into one clear message and a non-zero exit code (2 for bad input), never a traceback.
"""

from __future__ import annotations

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
    typer.echo(summarise(region))
    typer.echo(f"\nOK: {region.path} passed every check.")


if __name__ == "__main__":  # pragma: no cover
    app()
