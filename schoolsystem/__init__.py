"""The school system's shared contract: vocabulary, table schemas and the scenario file's top level.

Both :mod:`forecasting` and :mod:`layout` import from here; this package imports neither (and
nothing outside the standard library, except pydantic for the scenario model).

- :mod:`schoolsystem.vocabulary` — levels, grades, grade bands, ages, school types, actions,
  participation defaults, with Chinese labels;
- :mod:`schoolsystem.schemas` — the forecast and plan table schemas (column, dtype, label);
- :mod:`schoolsystem.scenario` — the scenario file's top-level model and YAML reading;
- :mod:`schoolsystem.errors` — :class:`~schoolsystem.errors.ProjectError`, base of every input error.
"""

from schoolsystem.errors import ProjectError as ProjectError
