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


if __name__ == "__main__":  # pragma: no cover
    app()
