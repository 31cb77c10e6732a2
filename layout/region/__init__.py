"""Region data: read a region folder, validate it against the data contract, summarise it.

>>> from layout.region import load_region
>>> region = load_region()  # doctest: +SKIP
"""

from layout.region.loader import ENV_VAR, embedded_region_path, load_region
from layout.region.model import Region

__all__ = ["ENV_VAR", "Region", "embedded_region_path", "load_region"]
