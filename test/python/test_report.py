"""The report's reading of a planned arena: which buffers share bytes, and
where the peak sits once shared bytes count once."""

from fdt_mlir import report


def _buffer(name, size, offset, first, last):
    return {"name": name, "bytes": size, "offset": offset, "first_op": first, "last_op": last}


# a (100 B) is read for the last time by the step that writes b over it,
# 10 B apart: they share 90 B. c is live with b later, beside it.
BUFFERS = [
    _buffer("a", 100, 10, 0, 5),
    _buffer("b", 100, 0, 3, 8),
    _buffer("c", 50, 112, 6, 9),
]


def test_overlaps_names_the_pair_and_its_shared_bytes():
    assert report.overlaps(BUFFERS) == [{"output": "b", "input": "a", "shared_bytes": 90}]


def test_peak_counts_shared_bytes_once():
    # At step 3, a and b are live: 200 B, of which 90 B shared, so 110 B
    # held; at step 6, b and c hold 150 B, the peak.
    step, live, shared = report.peak(BUFFERS, report.overlaps(BUFFERS))
    assert (step, [b["name"] for b in live], shared) == (6, ["b", "c"], 0)
    # Without the pairs, step 3's 200 B would be the peak.
    step, live, shared = report.peak(BUFFERS)
    assert (step, [b["name"] for b in live], shared) == (3, ["a", "b"], 0)


def test_peak_reports_the_bytes_shared_there():
    buffers = BUFFERS[:2]
    step, live, shared = report.peak(buffers, report.overlaps(buffers))
    assert (step, [b["name"] for b in live], shared) == (3, ["a", "b"], 90)
