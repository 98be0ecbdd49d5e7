"""The compact path notation of the report (plan.Path.compact): one
character per kernel, then the partitions. The expected strings are
written by hand."""

import pytest

from fdt_mlir.tiling_plan import Path, parse_plan


@pytest.mark.parametrize(
    "line, compact",
    [
        # FDT: each kernel's role, then ' x N'.
        ("fdt c 4 : CONV_2D:0 < DEPTHWISE_CONV_2D:1 = AVERAGE_POOL_2D:2 = CONV_2D:3 >", "<==> x 4"),
        ("fdt c 4 : DEPTHWISE_CONV_2D:1 < FULLY_CONNECTED:2 >", "<> x 4"),
        ("fdt c 2 : GATHER:1 < MEAN:2 =", "<= x 2"),
        ("fdt c 7 : ADD:0 = CONV_2D:1 >", "=> x 7"),
        ("fdt c 3 : CONV_2D:0 > PAD:1 ~", ">~ x 3"),
        ("fdt c 16 : FULLY_CONNECTED:5 <", "< x 16"),
        # FFMT: '-' per kernel for rows, '|' for columns, then ' x N'.
        ("ffmt h 3 : CONV_2D:0 MAX_POOL_2D:1", "-- x 3"),
        ("ffmt h 12 : DEPTHWISE_CONV_2D:0 MAX_POOL_2D:1", "-- x 12"),
        ("ffmt w 2 : CONV_2D:0 CONV_2D:1 ADD:2", "||| x 2"),
        # FFMT on an n x n grid: '#' per kernel, then 'NxN'.
        ("ffmt hw 3x3 : CONV_2D:0 CONV_2D:1 MAX_POOL_2D:2", "### 3x3"),
        ("ffmt hw 5x5 : CONV_2D:1 CONV_2D:2 ADD:3", "### 5x5"),
        ("ffmt hw 2x4 : CONV_2D:0", "# 2x4"),
    ],
)
def test_compact(line, compact):
    (path,) = parse_plan(line)
    assert path.compact() == compact
    assert path.notation() == line


def test_compact_of_paths_built_directly():
    # As dialect.ops.paths_of builds them: FFMT roles are 's', and they do not show.
    assert Path("fdt", "c", (4,), ("A:0", "B:1", "C:2"), "<=>").compact() == "<=> x 4"
    assert Path("ffmt", "hw", (2, 2), ("A:0", "B:1"), "ss").compact() == "## 2x2"
    assert Path("ffmt", "h", (5,), ("A:0",), "s").compact() == "- x 5"


def test_compact_of_a_plan_file():
    text = """
    # a comment, then two paths
    fdt c 2 : CONV_2D:2 < DEPTHWISE_CONV_2D:3 =

    ffmt w 4 : CONV_2D:0 DEPTHWISE_CONV_2D:1  # trailing comment
    """
    assert [p.compact() for p in parse_plan(text)] == ["<= x 2", "|| x 4"]
