#!/usr/bin/env python3
"""DuckDB on the same generated fleet file as the twindex benches, for comparison.

Needs the DuckDB Python package (this script installs nothing):

    pip install duckdb
    cargo bench --bench query            # generates the bench data, runs twindex's queries
    python3 benches/duckdb_compare.py    # loads the same file into DuckDB, runs the same queries

It loads the file into a table with `SET threads=2` (`CREATE TABLE twins AS SELECT * FROM
read_json(...)`), times the load, then runs the DuckDB translation of each query in
benches/query.rs (same names), `--runs` times each after one warm-up run, and prints the medians
in milliseconds. Two times are given per query: `in DuckDB` (`CREATE OR REPLACE TEMP TABLE r AS
<query>`: DuckDB computes the whole result and keeps it in its own format; this is the figure
compared, since a plain `execute` may stream and stop before the rows are computed) and `+fetch`
(`execute(...).fetchall()`: the result also converted to Python rows, which for wide rows costs
far more than the query, while for a one-row result it avoids the temp table's overhead). The
ratio uses the smaller of the two, the figure most favourable to DuckDB.

If criterion results for the same number of devices are present
(`<target>/criterion/query/<name>/<devices>/new/estimates.json`), their medians are printed next
to DuckDB's, with the ratio DuckDB / twindex.

The `devices` collection is the device records only, so every query adds `moduleId IS NULL`;
export-shape records call the device id `id`.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

QUERIES = [
    ("count_eq_indexed",
     "SELECT COUNT(*) FROM twins WHERE moduleId IS NULL AND status = 'disabled'"),
    ("count_and_indexed",
     "SELECT COUNT(*) FROM twins WHERE moduleId IS NULL AND tags.location.region = 'US' "
     "AND connectionState = 'Connected'"),
    ("count_in_list",
     "SELECT COUNT(*) FROM twins WHERE moduleId IS NULL "
     "AND properties.reported.connectivity IN ('wired', 'wifi')"),
    ("count_range",
     "SELECT COUNT(*) FROM twins WHERE moduleId IS NULL AND properties.reported.battery < 20"),
    ("startswith_ids",
     "SELECT id FROM twins WHERE moduleId IS NULL AND starts_with(id, 'test-')"),
    # The same query again: twindex's bench of this name produces the rows as JSON text.
    ("startswith_ids_json",
     "SELECT id FROM twins WHERE moduleId IS NULL AND starts_with(id, 'test-')"),
    ("group_by_property",
     "SELECT properties.reported.telemetryConfig.status AS s, COUNT(*) AS n FROM twins "
     "WHERE moduleId IS NULL GROUP BY properties.reported.telemetryConfig.status "
     "ORDER BY n DESC, s"),
    ("group_by_tag",
     "SELECT tags.location.region AS r, COUNT(*) AS n FROM twins WHERE moduleId IS NULL "
     "GROUP BY tags.location.region ORDER BY n DESC, r"),
    ("project_2k_ids",
     "SELECT id FROM twins WHERE moduleId IS NULL AND tags.ring = 'canary' "
     "AND tags.location.region = 'IN'"),
    ("project_2k_ids_json",
     "SELECT id FROM twins WHERE moduleId IS NULL AND tags.ring = 'canary' "
     "AND tags.location.region = 'IN'"),
    ("select_star_10k",
     "SELECT * FROM twins WHERE moduleId IS NULL AND tags.ring = 'canary' "
     "AND properties.reported.connectivity = 'cellular'"),
    # The same query again: twindex's bench of this name produces the rows as JSON text.
    ("select_star_10k_json",
     "SELECT * FROM twins WHERE moduleId IS NULL AND tags.ring = 'canary' "
     "AND properties.reported.connectivity = 'cellular'"),
    ("top10_order_by",
     "SELECT id, properties.reported.battery FROM twins WHERE moduleId IS NULL "
     "ORDER BY properties.reported.battery DESC NULLS LAST LIMIT 10"),
]


def target_dir():
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"])
    return Path(__file__).resolve().parent.parent / "target"


def criterion_median_ms(criterion, group, name, devices):
    """Criterion's median for group/name/devices in ms, or None."""
    path = criterion / group / name / str(devices) / "new" / "estimates.json"
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"] / 1e6
    except (OSError, KeyError, ValueError):
        return None


def median_ms(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def main():
    devices = os.environ.get("TWINDEX_BENCH_DEVICES", "1000000").replace("_", "")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path,
                        default=target_dir() / "bench-data" / f"fleet-{devices}-42.jsonl",
                        help="the fleet file (default: the benches' cached one)")
    parser.add_argument("--criterion", type=Path, default=target_dir() / "criterion",
                        help="criterion's output directory, for twindex's medians")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per query")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sample-size", type=int, default=None,
                        help="read_json sample_size (default DuckDB's; -1 infers the schema "
                        "from every record, about 30%% slower)")
    args = parser.parse_args()

    try:
        import duckdb
    except ImportError:
        sys.exit("duckdb is not installed: pip install duckdb")
    if not args.file.exists():
        sys.exit(f"{args.file} does not exist: run `cargo bench --bench query` first "
                 "(it generates the bench data), or pass --file")

    size = args.file.stat().st_size
    print(f"duckdb {duckdb.__version__}, threads={args.threads}, file {args.file} "
          f"({size:,} bytes)")
    print(f"load average before load: {loadavg()}")
    con = duckdb.connect()
    con.execute(f"SET threads={args.threads}")
    con.execute("SET enable_progress_bar=false")
    sample = "" if args.sample_size is None else f", sample_size={args.sample_size}"
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE twins AS SELECT * FROM read_json(?, format='newline_delimited', "
        f"maximum_object_size=16777216{sample})",
        [str(args.file)])
    load_s = time.perf_counter() - started
    rows = con.execute("SELECT COUNT(*) FROM twins").fetchone()[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    mem = con.execute("SELECT SUM(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]
    print(f"load: {load_s:.3f} s ({size / load_s / 1e9:.2f} GB/s), {rows:,} rows, "
          f"DuckDB memory {mem:,} bytes, process peak RSS {peak:,} bytes")
    bare = criterion_median_ms(args.criterion, "ingest", "bare_tape_parse", devices)
    twindex_load = criterion_median_ms(args.criterion, "ingest", "twindex_load", devices)
    if bare is not None and twindex_load is not None:
        print(f"criterion medians: bare_tape_parse {bare / 1000:.3f} s "
              f"({size / bare / 1e6:.2f} GB/s), twindex_load {twindex_load / 1000:.3f} s "
              f"({size / twindex_load / 1e6:.2f} GB/s), load / bare {twindex_load / bare:.2f}x, "
              f"DuckDB load / twindex load {load_s * 1000 / twindex_load:.2f}x")

    print(f"load average before queries: {loadavg()}")
    print()
    header = (f"{'query':<20} {'rows':>7} {'result':<28} {'in DuckDB':>11} {'+fetch ms':>10} "
              f"{'twindex ms':>11} {'ratio':>8}")
    print(header)
    print("-" * len(header))
    for name, sql in QUERIES:
        result = con.execute(sql).fetchall()
        shown = str(result[0][0]) if len(result) == 1 and len(result[0]) == 1 else ""
        if name.startswith("group_by"):
            shown = ",".join(f"{k}:{n}" for k, n in result[:3]) + ",..."
        exec_ms = median_ms(
            lambda: con.execute(f"CREATE OR REPLACE TEMP TABLE r AS {sql}"), args.runs)
        fetch_ms = median_ms(lambda: con.execute(sql).fetchall(), args.runs)
        ours = criterion_median_ms(args.criterion, "query", name, devices)
        ours_s = f"{ours:11.4f}" if ours is not None else f"{'-':>11}"
        best = min(exec_ms, fetch_ms)
        if ours:
            r = best / ours
            ratio = f"{r:7.0f}x" if r >= 10 else f"{r:7.2f}x"
        else:
            ratio = f"{'-':>8}"
        print(f"{name:<20} {len(result):>7} {shown[:28]:<28} {exec_ms:11.2f} {fetch_ms:10.2f} "
              f"{ours_s} {ratio}")
    print()
    print(f"load average after: {loadavg()}")
    print("in DuckDB: CREATE OR REPLACE TEMP TABLE r AS <query>; +fetch: execute + fetchall; "
          "ratio: the smaller of the two / twindex's criterion median")


if __name__ == "__main__":
    main()
