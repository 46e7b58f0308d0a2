"""docs/CAPACITY.md's plan is what ``bench.capacity`` prints for the command it quotes.

The plan's tables are copied from that command's output by hand. A copy made from
older inputs once stayed on the page under the current one, with other replica
counts, so a reader could not tell which to size a cluster by. Here the command is
read from the page, run, and its every table must stand on the page whole, with no
other row for the same upload rates beside it; and the page's table of inputs must
state the values the command is given.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from bench import capacity

DOC = Path(__file__).resolve().parents[2] / "docs" / "CAPACITY.md"
#: The plan's command, alone on a line of a shell block.
COMMAND = re.compile(r"^python -m bench\.capacity( --.*)$", re.MULTILINE)
#: A row of one of the plan's tables: it starts with one of the planned upload rates.
PLAN_ROW = re.compile(r"^\| (?:" + "|".join(f"{rate:,}" for rate in capacity.RATES) + r") \|")


def _tables(lines: list[str]) -> list[list[str]]:
    """Runs of consecutive markdown table lines."""
    tables: list[list[str]] = []
    run: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            run.append(line)
        elif run:
            tables.append(run)
            run = []
    return tables


@pytest.fixture(scope="module")
def printed() -> list[str]:
    commands = COMMAND.findall(DOC.read_text(encoding="utf-8"))
    assert len(commands) == 1, f"docs/CAPACITY.md quotes {len(commands)} plan commands, not one"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        capacity.main(shlex.split(commands[0]))
    return out.getvalue().splitlines()


def test_every_table_the_command_prints_stands_whole_on_the_page(printed: list[str]) -> None:
    page = DOC.read_text(encoding="utf-8")
    tables = _tables(printed)
    assert len(tables) == 4  # cores, bytes, scaling, near-duplicate index
    for table in tables:
        assert "\n".join(table) in page, f"not on the page as printed:\n{table[0]}"


def test_no_other_row_for_the_planned_rates(printed: list[str]) -> None:
    page_rows = [
        line for line in DOC.read_text(encoding="utf-8").splitlines() if PLAN_ROW.match(line)
    ]
    printed_rows = [line for line in printed if PLAN_ROW.match(line)]
    assert sorted(page_rows) == sorted(printed_rows)


def test_the_sentences_and_event_sizes_it_prints_are_quoted(printed: list[str]) -> None:
    page = DOC.read_text(encoding="utf-8")
    sizes = re.fullmatch(r"events: ImageSubmitted (\d+) B, VerdictEvent (\d+) B", printed[0])
    assert sizes is not None
    submitted, verdict = (int(size) for size in sizes.groups())
    assert f"`ImageSubmitted` {submitted:,} B, `VerdictEvent` {verdict:,} B" in page
    sentences = [line for line in printed if line.startswith(("one replica", "an index budget"))]
    assert len(sentences) == 2
    for sentence in sentences:
        assert sentence in page


def test_the_inputs_table_names_the_values_the_command_is_given() -> None:
    page = DOC.read_text(encoding="utf-8")
    inputs = page[page.index("### Inputs") : page.index("```sh")]
    (command,) = COMMAND.findall(page)
    words = shlex.split(command)
    given = dict(zip(words[::2], words[1::2], strict=True))  # --flag value pairs
    units = {
        "--api-ms": "{} ms per 2.7 MB raw upload",
        "--drain-per-core": "{} images/s per core",
        "--kafka-ms": "{} ms:",
        "--store-ms": "{} ms (SeaweedFS)",
        "--photo-mb": "{} MB mean",
    }
    assert set(given) == set(units)
    for flag, shape in units.items():
        assert shape.format(given[flag]) in inputs, flag
