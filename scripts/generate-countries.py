"""Regenerate events/countries.py from pycountry (run by hand, not at build time).

Usage: pip install pycountry && python scripts/generate-countries.py
"""

from importlib.metadata import version
from pathlib import Path

import pycountry  # type: ignore[import-not-found]

HEADER = '''"""ISO 3166-1 alpha-3 codes and English short names.

Generated once from the iso-codes data shipped in pycountry {version} (ISO 3166-1,
{count} entries); kept here as plain data so that the domain needs no third-party
package. Regenerate with ``scripts/generate-countries.py``.
"""

from types import MappingProxyType
from typing import Final

COUNTRIES: Final = MappingProxyType(
    {{
'''


def main() -> None:
    countries = sorted(pycountry.countries, key=lambda c: c.alpha_3)
    lines = [
        f'        "{c.alpha_3}": "{getattr(c, "common_name", None) or c.name}",' for c in countries
    ]
    text = HEADER.format(version=version("pycountry"), count=len(countries))
    text += "\n".join(lines) + "\n    }\n)\n"
    target = Path(__file__).resolve().parent.parent / "events" / "countries.py"
    target.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
