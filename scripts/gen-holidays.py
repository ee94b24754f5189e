#!/usr/bin/env python3
"""Prints the Rust data file of flowlake's Russian holiday presets from the PyPI `holidays` package.

flowlake's `ru` holiday preset (crates/flowlake-core/src/calendar/) is not typed by hand: it is every date of
`holidays.RU()` (the package's default category, public holidays, which includes the days off moved by
government decree, e.g. 2023-02-24 and 2023-05-08) for the years 1991-2040, as this script prints them.

Two versions are committed, one file each:
  holidays 0.109 -> crates/flowlake-core/src/calendar/ru_holidays_0_109.rs  (preset `ru`, the current data)
  holidays 0.34  -> crates/flowlake-core/src/calendar/ru_holidays_0_34.rs   (preset `ru-holidays-0.34`, the
                    version tracker-exporter 2.0.0 pins, for byte-exact parity with it)

Run it with a Python that has exactly that version installed, e.g.:
  python3 -m venv /tmp/h && /tmp/h/bin/pip install holidays==0.109
  /tmp/h/bin/python scripts/gen-holidays.py --expect 0.109 > crates/flowlake-core/src/calendar/ru_holidays_0_109.rs
scripts/check-holidays.sh does this for both versions in temporary venvs and diffs the result against the
committed files (CI). To move `ru` to a newer release: bump the version here in the docstring, in
check-holidays.sh and in the file name, regenerate, and read the diff.

Output: a Rust module with VERSION, FIRST_YEAR, LAST_YEAR and DATES, a sorted array of (year, month, day),
one per line with the package's English name as a comment. Standard library only besides `holidays`.
"""

import argparse
import sys

import holidays

FIRST_YEAR = 1991
LAST_YEAR = 2040


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--expect",
        metavar="VERSION",
        help="fail unless the installed holidays package is this version",
    )
    args = parser.parse_args()
    version = holidays.__version__
    if args.expect and version != args.expect:
        print(
            f"gen-holidays: holidays {version} is installed, {args.expect} was expected",
            file=sys.stderr,
        )
        return 1
    # As tracker-exporter asks (`holidays.RU()`: default categories), with the names in English so the
    # comments do not depend on the locale.
    ru = holidays.RU(years=range(FIRST_YEAR, LAST_YEAR + 1), language="en_US")
    dates = sorted(ru.items())
    if not dates:
        print("gen-holidays: holidays.RU() gave no dates", file=sys.stderr)
        return 1
    out = sys.stdout
    out.write(
        f"//! Russian public holidays from the PyPI `holidays` package {version}: every date of `holidays.RU()`\n"
        f"//! for {FIRST_YEAR}–{LAST_YEAR}, with the days off moved by decree that this version knows. Generated\n"
        f"//! by `scripts/gen-holidays.py --expect {version}`; do not edit (`scripts/check-holidays.sh` checks it).\n"
        "\n"
        "/// The `holidays` package version the dates come from.\n"
        f'pub const VERSION: &str = "{version}";\n'
        "/// First year covered.\n"
        f"pub const FIRST_YEAR: i32 = {FIRST_YEAR};\n"
        "/// Last year covered.\n"
        f"pub const LAST_YEAR: i32 = {LAST_YEAR};\n"
        "\n"
        "/// Every date off, (year, month, day), ascending.\n"
        "#[rustfmt::skip]\n"
        "pub const DATES: &[(i32, u32, u32)] = &[\n"
    )
    for day, name in dates:
        name = " ".join(str(name).split())
        out.write(f"    ({day.year}, {day.month}, {day.day}), // {name}\n")
    out.write("];\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
