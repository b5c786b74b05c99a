"""Hostile input to the estimate, hardware, bench, compress and tune commands: every
refusal is one line ``wattwise: error: ...`` on stderr, exit code 2, nothing on
stdout, no traceback, no hang, no model prepared or benchmark run first, and no
file created or changed (the run database passed with --db keeps its sha256)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli._hostile import (
    ROOT,
    case_id,
    check_refusal,
    env_for,
    fill,
    invoke,
    invoke_subprocess,
    make_files,
    snapshot,
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    names = make_files(tmp_path_factory.mktemp("data"))
    names["home"] = tmp_path_factory.mktemp("home")
    return names


TRAIN = ["estimate", "train", "--params", "7B", "--tokens", "1T", "--hardware", "H100 SXM5"]
INFER = ["estimate", "infer", "--params", "7B", "--hardware", "H100 SXM5", "--prompt-tokens",
         "100", "--output-tokens", "100"]
DB = ["--db", "{db}"]
BENCH = ["bench", "digits-mlp", *DB]
COMPRESS = ["compress", "digits-mlp"]
TUNE = ["tune", "digits-mlp"]

#: Values no number option takes, and what the quantity parser says of each.
BAD_NUMBERS = [
    ("nan", "cannot read"), ("inf", "cannot read"), ("-inf", "cannot read"),
    ("0", "must be positive"), ("-1", "must be positive"), ("1e308", "larger than 1e+30"),
    ("1e31", "larger than 1e+30"), ("9" * 400, "cannot read"), ("", "cannot read"),
    ("x" * 5000, "cannot read"), ("é", "cannot read"), ("a\x00b", "cannot read"),
    ("1e-320", "smaller than 1e-12"), ("7 parsecs", "cannot read"),
]


def _with(base: list[str], option: str, value: str) -> list[str]:
    args = list(base)
    if option in args:
        args[args.index(option) + 1] = value
        return args
    return [*args, option, value]


CASES: list[tuple[list[str], str]] = [
    # -- estimate train: every number option, every hostile value
    *[(_with(TRAIN, "--params", v), m) for v, m in BAD_NUMBERS],
    *[(_with(TRAIN, opt, v), m) for opt in
      ("--tokens", "--count", "--days", "--gpu-hours", "--power-w", "--intensity",
       "--lifetime-years", "--throughput-tflops", "--flops")
      for v, m in BAD_NUMBERS[:8]],
    # a PUE below 1 is refused in the words every command gives (``carbon.pue``)
    *[(_with(TRAIN, "--pue", v), "pue must be a number from 1.0 to 5.0")
      for v, _ in BAD_NUMBERS[:8]],
    (_with(TRAIN, "--count", "1.5"), "count must be a whole number"),
    (_with(TRAIN, "--mfu", "1.5"), "mfu is a fraction of peak and must be at most 1"),
    (_with(TRAIN, "--mfu", "nan"), "mfu: cannot read"),
    (_with(TRAIN, "--goodput", "2"), "goodput is a fraction of peak"),
    (_with(TRAIN, "--pue", "0.5"), "pue must be a number from 1.0 to 5.0, got 0.5"),
    ([*TRAIN, "--intensity", "100", "--zone", "DE"], "give either intensity or zone"),
    (_with(TRAIN, "--zone", "Atlantis"), "unknown zone 'Atlantis'"),
    (_with(TRAIN, "--zone", "\x00"), "unknown zone"),
    (_with(TRAIN, "--hardware", "nope"), "unknown hardware 'nope'"),
    (_with(TRAIN, "--hardware", ""), "empty hardware name"),
    (_with(TRAIN, "--hardware", "x" * 5000), "unknown hardware"),
    (_with(TRAIN, "--hardware", "H100"), "matches several accelerators"),
    (_with(TRAIN, "--precision", "fp3"), "fp3"),
    (_with(TRAIN, "--power-basis", "nope"), "power basis must be one of system, gpu"),
    (["estimate", "train", "--params", "1e30", "--tokens", "1e30", "--flops", "1"],
     "contradict"),
    # -- estimate infer
    *[(_with(INFER, opt, v), m) for opt in
      ("--params", "--prompt-tokens", "--output-tokens", "--batch-size", "--count",
       "--kv-bytes-per-token", "--power-w", "--requests-per-day", "--lifetime-years")
      for v, m in BAD_NUMBERS[:7]],
    (_with(INFER, "--prompt-tokens", "1.5"), "prompt_tokens must be a whole number"),
    (_with(INFER, "--batch-size", "2.5"), "batch_size must be a whole number"),
    (_with(INFER, "--mfu", "2"), "must be at most 1"),
    (_with(INFER, "--bandwidth-efficiency", "0"), "must be positive"),
    (_with(INFER, "--pue", "nan"), "pue must be a number from 1.0 to 5.0, got nan"),
    (_with(INFER, "--pue", "1.5k"), "pue must be a number from 1.0 to 5.0, got '1.5k'"),
    (_with(INFER, "--pue", "1e999"), "pue must be a number from 1.0 to 5.0, got 1e999 ("),
    (_with(INFER, "--lifetime-days", "5"), "lifetime_days needs requests_per_day"),
    (_with(INFER, "--lifetime-years", "4"), "lifetime_years needs requests_per_day"),
    (_with(INFER, "--hardware", "nope"), "unknown hardware"),
    (_with(INFER, "--zone", "nope"), "unknown zone"),
    (_with(INFER, "--memory-bw-gb-s", "0.001"),
     "memory_bw_gb_s 0.001 GB/s is less than wattwise accepts: at least 1 GB/s"),
    (_with(INFER, "--peak-tflops", "0.001"),
     "peak_tflops 0.001 TFLOP/s is less than wattwise accepts: at least 0.01 TFLOP/s"),
    (_with(INFER, "--intensity", "2001"), "at most 2,000 gCO2eq/kWh"),
    # -- hardware
    (["hardware", "\x00"], "no hardware matches"),
    (["hardware", "x" * 5000], "no hardware matches"),
    (["hardware", "--kind", "gpus"], "--kind must be accelerators, cpus or all"),
    (["hardware", "--kind", ""], "--kind must be"),
    # -- bench: settings refused before any model is prepared or run recorded
    *[(_with(BENCH, "--batch-size", v), "--batch-size must be a whole number from 1")
      for v in ("0", "-1", "100000000")],
    *[(_with(BENCH, "--repetitions", v), "--repetitions must be a whole number from 1")
      for v in ("0", "-1", "1000000")],
    *[(_with(BENCH, "--warmup", v), "--warmup must be a whole number from 0")
      for v in ("-1", "1000000")],
    *[(_with(BENCH, "--calls", v), "--calls must be a whole number from 1")
      for v in ("0", "-1", "10000000000")],
    *[(_with(BENCH, "--duration", v), "--duration must be a number > 0")
      for v in ("nan", "inf", "-inf", "0", "-1", "1e308")],
    *[(_with(BENCH, "--interval", v), "--interval must be a number >= 0.001")
      for v in ("nan", "inf", "0", "-1", "1e308", "1e-9")],
    *[(_with(BENCH, "--threads", v), "--threads must be a whole number from 1")
      for v in ("0", "100000")],
    (_with(BENCH, "--zone", "nope"), "unknown zone 'nope'"),
    (_with(BENCH, "--zone", ""), "unknown zone ''"),
    (_with(BENCH, "--task", ""), "--task must be a name"),
    (_with(BENCH, "--task", "a\x00b"), "--task must be a name"),
    (_with(BENCH, "--task", "x" * 500), "--task must be a name"),
    (_with(BENCH, "--json", "{missing}/x.json"), "folder"),
    (_with(BENCH, "--json", "{dir}"), "it is a directory"),
    (_with(BENCH, "--json", "/dev/full"), "not a regular file"),
    (_with(BENCH, "--json", "{db}"), "run database"),
    (["bench", "nope", *DB], "unknown suite 'nope'"),
    (["bench", "x" * 5000, *DB], "unknown suite"),
    (["bench", ":", *DB], "expected MODULE:CALLABLE"),
    (["bench", "x:", *DB], "expected MODULE:CALLABLE"),
    (["bench", "a\x00b:c", *DB], "expected MODULE:CALLABLE"),
    (["bench", "no_such_module_wattwise:f", *DB], "cannot import 'no_such_module_wattwise'"),
    (["bench", "os:no_such_attribute", *DB], "has no attribute"),
    (["bench", "os:1x", *DB], "has no attribute"),
    (["bench", "os:sep", *DB], "is not callable"),
    (["bench", "digits-mlp", "--db", "{dir}"], "is a directory"),
    # the run database is never an output, --no-store or not (more in test_bad_output)
    (["bench", "digits-mlp", "--no-store", *DB, "--json", "{db}"], "run database"),
    (["bench", "digits-mlp", "--no-store", *DB, "--json", "{db}-wal"], "run database"),
    # --db typed as a folder, or in a folder that is not there: nothing is created
    (["bench", "digits-mlp", "--db", "{db}/"], "runs.db/: not a directory"),
    (["bench", "digits-mlp", "--db", "{data}/new.db/"], "names a folder"),
    (["bench", "digits-mlp", "--db", "{missing}/x.db"], "no-such-folder does not exist"),
    (["bench", "digits-mlp", "--db", "{notsqlite}"], "not a SQLite database"),
    # -- compress
    *[(_with(COMPRESS, "--max-loss", v), "--max-loss must be a number >= 0 and at most 100")
      for v in ("nan", "inf", "-inf", "-1", "1e308", "101")],
    *[(_with(COMPRESS, "--quality-floor", v), "--quality-floor must be a number")
      for v in ("nan", "inf", "-5", "1e308")],
    *[(_with(COMPRESS, "--duration", v), "--duration must be a number > 0")
      for v in ("nan", "inf", "0", "-1")],
    (_with(COMPRESS, "--repetitions", "0"), "--repetitions must be a whole number"),
    (_with(COMPRESS, "--warmup", "-1"), "--warmup must be a whole number"),
    (_with(COMPRESS, "--threads", "0"), "--threads must be a whole number"),
    (_with(COMPRESS, "--batch-size", "0"), "--batch-size must be a whole number"),
    (_with(COMPRESS, "--batch-size", "10000000000"), "--batch-size must be a whole number"),
    (_with(COMPRESS, "--methods", ""), "--methods must name at least one value"),
    (_with(COMPRESS, "--methods", ","), "--methods must name at least one value"),
    (_with(COMPRESS, "--methods", "nope"), "unknown method 'nope'"),
    (_with(COMPRESS, "--methods", "é"), "unknown method"),
    (_with(COMPRESS, "--methods", "a\x00b"), "unknown method"),
    (_with(COMPRESS, "--methods", "x" * 5000), "unknown method"),
    (_with(COMPRESS, "--methods", "prune-unstructured:nan"), "amount must be a fraction"),
    (_with(COMPRESS, "--methods", "prune-unstructured:2"), "amount must be a fraction"),
    (_with(COMPRESS, "--methods", "prune-structured:0.5:-1"), "epochs must be a whole number"),
    (_with(COMPRESS, "--methods", "prune-structured:0.5:" + "9" * 12), "epochs must be"),
    (_with(COMPRESS, "--methods", "distill:0"), "hidden width must be a whole number"),
    (_with(COMPRESS, "--methods", "distill:999999999"), "hidden width must be"),
    (_with(COMPRESS, "--methods", "distill:" + "x".join(["8"] * 20)), "at most 8 hidden"),
    (_with(COMPRESS, "--plot", "front.jpg"), "--plot must end in .svg or .png"),
    (_with(COMPRESS, "--plot", "{missing}/p.svg"), "folder"),
    (_with(COMPRESS, "--plot", "/dev/full"), "not a regular file"),  # as report says it
    (_with(COMPRESS, "--json", "{missing}/x.json"), "folder"),
    (_with(COMPRESS, "--json", "{dir}"), "it is a directory"),
    (_with(COMPRESS, "--json", "/dev/full"), "not a regular file"),
    (["compress", "resnet-9000"], "unknown model 'resnet-9000'"),
    (["compress", ""], "unknown model ''"),
    (["compress", "x" * 5000], "unknown model"),
    # -- tune
    *[(_with(TUNE, "--threads", v), "--threads must be") for v in
      ("0", "-1", "nan", "1.5", "a,b", "9" * 20, "100000")],
    (_with(TUNE, "--threads", ""), "--threads must name at least one value"),
    (_with(TUNE, "--threads", ",".join(["1"] * 21)), "--threads takes at most 20 values"),
    *[(_with(TUNE, "--batch-sizes", v), "--batch-sizes must") for v in
      ("0", "-5", "1e308", "10000000000", "")],
    *[(_with(TUNE, "--precisions", v), "--precisions must") for v in ("fp64", "", "\x00")],
    *[(_with(TUNE, "--max-latency-ms", v), "--max-latency-ms must be a number > 0")
      for v in ("nan", "inf", "0", "-1")],
    *[(_with(TUNE, "--min-throughput", v), "--min-throughput must be a number > 0")
      for v in ("nan", "-inf", "0")],
    *[(_with(TUNE, "--gpu", v), "--gpu must be a whole number") for v in ("-1", "100000")],
    (_with(TUNE, "--json", "{missing}/x.json"), "folder"),
    (_with(TUNE, "--json", "{dir}"), "it is a directory"),
    (_with(TUNE, "--json", "/dev/full"), "not a regular file"),
    (_with(TUNE, "--duration", "inf"), "--duration must be a number > 0"),
    (_with(TUNE, "--repetitions", "0"), "--repetitions must be a whole number"),
    ([*TUNE, "--apply-power-limits"], "add --allow-power-limit"),
    (["tune", "nope"], "unknown model 'nope'"),
]

#: Usage errors Click finds (a value of the wrong type): one line too, from the app's
#: group, which another part of the CLI owns; kept here to pin them for these commands.
CLICK_CASES: list[tuple[list[str], str]] = [
    (_with(BENCH, "--repetitions", "1.5"), "--repetitions"),
    (_with(BENCH, "--duration", "soon"), "--duration"),
    (_with(COMPRESS, "--max-loss", "lots"), "--max-loss"),
    (_with(TUNE, "--gpu", "first"), "--gpu"),
    (["estimate", "infer", "--params", "7B"], "missing option"),
]

PERMISSION_CASES: list[tuple[list[str], str]] = [
    (_with(BENCH, "--json", "{ro}/x.json"), "no permission"),
    (_with(COMPRESS, "--plot", "{ro}/p.svg"), "no permission"),
]

FIFO_CASES: list[tuple[list[str], str]] = [
    (_with(BENCH, "--json", "{fifo}"), "not a regular file"),
    (_with(COMPRESS, "--json", "{fifo}"), "not a regular file"),
    (_with(TUNE, "--json", "{fifo}"), "not a regular file"),
    (["bench", "digits-mlp", "--db", "{fifo}"], "not a regular file"),
]


def test_there_are_enough_cases() -> None:
    assert len(CASES) + len(PERMISSION_CASES) + len(FIFO_CASES) >= 150


def _run_case(files: dict[str, Path], args: list[str], expected: str) -> None:
    before = snapshot(files["data"], files["home"])
    stdout, stderr, code, exc = invoke(fill(args, files), env_for(files["home"]))
    after = snapshot(files["data"], files["home"])
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    check_refusal(stdout, stderr, code, expected)
    assert after == before  # nothing recorded, created or changed; the --db file unchanged


@pytest.mark.parametrize("args,expected", CASES + CLICK_CASES,
                         ids=[case_id(c) for c in CASES + CLICK_CASES])
def test_bad_input_is_one_line_and_exit_2(
    files: dict[str, Path], args: list[str], expected: str
) -> None:
    _run_case(files, args, expected)


@pytest.mark.skipif(ROOT, reason="root writes whatever the permissions say")
@pytest.mark.parametrize("args,expected", PERMISSION_CASES,
                         ids=[case_id(c) for c in PERMISSION_CASES])
def test_an_output_without_permission_is_one_line(
    files: dict[str, Path], args: list[str], expected: str
) -> None:
    _run_case(files, args, expected)


@pytest.mark.parametrize("args,expected", FIFO_CASES, ids=[case_id(c) for c in FIFO_CASES])
def test_a_fifo_is_refused_without_waiting(
    files: dict[str, Path], args: list[str], expected: str
) -> None:
    before = snapshot(files["data"], files["home"])
    stdout, stderr, code = invoke_subprocess(fill(args, files), env_for(files["home"]))
    check_refusal(stdout, stderr, code, expected)
    assert snapshot(files["data"], files["home"]) == before


#: The dashboard refuses its --db before it listens (never serves: see the test).
DASHBOARD_CASES: list[tuple[list[str], str]] = [
    (["dashboard", "--db", "{db}/"], "runs.db/: not a directory"),
    (["dashboard", "--db", "{data}/new.db/"], "names a folder"),
    (["dashboard", "--db", "{dir}"], "is a directory"),
    # no run would create the folder, so nothing could ever be shown
    (["dashboard", "--db", "{data}/no-such-folder/runs.db"],
     "no-such-folder does not exist (it is not created for --db)"),
]


@pytest.mark.parametrize("args,expected", DASHBOARD_CASES,
                         ids=[case_id(c) for c in DASHBOARD_CASES])
def test_the_dashboard_refuses_its_database_before_it_serves(
    files: dict[str, Path], args: list[str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wattwise.server._net as net

    def never(*args: object, **kwargs: object) -> None:
        pytest.fail("the dashboard went on to listen")

    monkeypatch.setattr(net, "listen", never)
    _run_case(files, args, expected)
