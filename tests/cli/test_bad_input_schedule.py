"""Hostile input to the carbon and scheduling commands (intensity, zones, simulate,
defer, plan): every refusal is one line ``wattwise: error: ...`` on stderr, exit
code 2, nothing on stdout, no traceback, no hang, and no file created or changed
(the run database passed with --db keeps its sha256). ``defer`` and ``plan --run``
refuse before any job starts: the cases' commands would leave a marker file.

Cases naming a FIFO run the real entry point in a child process with a 30 s
timeout, so a read that blocks fails the test instead of hanging the suite."""

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
    make_config,
    make_files,
    snapshot,
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    names = make_files(tmp_path_factory.mktemp("data"))
    names["home"] = tmp_path_factory.mktemp("home")
    return names


DB = ["--db", "{db}"]
AT = ["intensity", "DE", "--at"]
TRACE = ["intensity", "DE", "--at", "2020-01-01", "--trace"]
SIM = ["simulate", "--zone", "FR", "--scenario", "nightly", "--flex", "1",
       "--start", "2020-03-01", "--end", "2020-03-05"]
DEFER = ["defer", "--within", "8h", "--duration", "1h", "-z", "GB", *DB]
MARK = ["--", "touch", "{data}/marker-should-not-exist"]
PLAN = ["plan", "{jobs_ok}", *DB]

#: (arguments, a substring of the one error line). Value errors found by wattwise.
CASES: list[tuple[list[str], str]] = [
    # -- intensity --at: one accepted time range, 1970-01-01 to 2200-01-01 UTC
    ([*AT, "1e20"], "outside the accepted range 1970-01-01 to 2200-01-01 UTC"),
    ([*AT, "-1"], "outside the accepted range"),
    ([*AT, "-1e18"], "outside the accepted range"),
    ([*AT, "1e308"], "outside the accepted range"),
    ([*AT, "9" * 400], "cannot read time"),
    ([*AT, "0000-01-01"], "year 0 is out of range"),
    ([*AT, "10000-01-01"], "cannot read time"),
    ([*AT, "9999-12-31T23:00-05:00"], "outside the accepted range"),
    ([*AT, "0001-01-01T00:00+01:00"], "outside the accepted range"),
    ([*AT, "2200-01-02"], "outside the accepted range"),
    ([*AT, "1969-12-31T23:59:59Z"], "outside the accepted range"),
    ([*AT, "nan"], "is not a time"),
    ([*AT, "inf"], "is not a time"),
    ([*AT, "-inf"], "is not a time"),
    ([*AT, ""], "empty time"),
    ([*AT, "\x00"], "cannot read time"),
    ([*AT, "x" * 10_000], "cannot read time"),
    ([*AT, "2020-13-45"], "cannot read time"),
    ([*AT, "é"], "cannot read time"),
    # -- intensity --trace: every bad file is one line
    ([*TRACE, "{big}"], "line 2: time 1e+17 s since 1970 is outside the accepted range"),
    ([*TRACE, "{neg}"], "line 2: time -1e+18 s since 1970 is outside the accepted range"),
    ([*TRACE, "{y0}"], "line 2: time: cannot read time"),
    ([*TRACE, "{y10000}"], "outside the accepted range"),
    ([*TRACE, "{badgz}"], "broken gzip data"),
    ([*TRACE, "{truncgz}"], "broken gzip data"),
    ([*TRACE, "{fakegz}"], "not gzip data, though its name ends in .gz"),
    ([*TRACE, "{latin}"], "is not UTF-8 text"),
    ([*TRACE, "{nul}"], "intensity"),
    ([*TRACE, "{empty}"], "is empty"),
    ([*TRACE, "{dir}"], "it is a directory"),
    ([*TRACE, "{missing}"], "no such file"),
    ([*TRACE, "{missing}/x.csv"], "no such file"),
    ([*TRACE, "{nanv}"], "intensity nan is not a finite value"),
    ([*TRACE, "{infv}"], "intensity inf is not a finite value"),
    ([*TRACE, "{negv}"], "intensity -5 is not a finite value"),
    ([*TRACE, "{unit}"], "is not a number (gCO2eq/kWh, no unit in the cell)"),
    ([*TRACE, "{noheader}"], "lacks a time column"),
    ([*TRACE, "{short}"], "expected 2 columns"),
    ([*TRACE, "{nodata}"], "no data rows"),
    (["intensity", "DE", "--trace", "{ok}"], "--trace needs --at"),
    (["intensity", "DE", "--at", "2030-01-01", "--trace", "{ok}"], "is outside trace:ok.csv"),
    # -- zones
    (["intensity", "XX"], "unknown zone 'XX'"),
    (["intensity", ""], "unknown zone ''"),
    (["intensity", "\x00"], "unknown zone"),
    (["intensity", "x" * 100_000], "unknown zone"),
    (["intensity", "é"], "unknown zone 'é'"),
    (["zones", "zzzz"], "no zone matches 'zzzz'"),
    (["zones", "\x00"], "no zone matches"),
    (["zones", "x" * 10_000], "no zone matches"),
    # -- simulate: times, numbers, files, the --csv output
    (["simulate", "--start", "1e20"], "--start 1e+20 s since 1970 is outside the accepted"),
    (["simulate", "--start", "-1e18"], "--start -1e+18 s since 1970 is outside"),
    (["simulate", "--end", "1e20"], "--end 1e+20 s since 1970 is outside"),
    (["simulate", "--start", "0000-01-01"], "year 0 is out of range"),
    (["simulate", "--end", "10000-01-01"], "--end: cannot read time"),
    (["simulate", "--end", ""], "--end: empty time"),
    (["simulate", "--start", "nan"], "--start: 'nan' is not a time"),
    (["simulate", "--seed", "-1"], "--seed must be a whole number from 0"),
    (["simulate", "--seed", str(10**30)], "--seed must be a whole number from 0"),
    *[(["simulate", "--flex", v], "--flex must be") for v in
      ("nan", "inf", "-inf", "-1", "1e308", "169", "a", "1,,x")],
    (["simulate", "--flex", ""], "--flex must name at least one number"),
    (["simulate", "--noise", ","], "--noise must name at least one number"),
    (["simulate", "--flex", ",".join(["1"] * 21)], "--flex takes at most 20 values"),
    *[(["simulate", "--noise", v], "--noise must be") for v in ("nan", "inf", "-5", "1e308")],
    (["simulate", "--scenario", "weekly"], "--scenario must be all, nightly or ml"),
    (["simulate", "--forecaster", "x"], "unknown forecaster 'x'"),
    (["simulate", "--zone", "XX"], "unknown zone 'XX'"),
    (["simulate", "--zone", "US"], "no shipped trace for zone US"),
    (["simulate", "--zone", "GB", "--zone", "FR", "--trace", "{ok}"], "exactly one --zone"),
    (["simulate", "--zone", "FR", "--trace", "{big}"], "outside the accepted range"),
    (["simulate", "--zone", "FR", "--trace", "{latin}"], "not UTF-8 text"),
    (["simulate", "--zone", "FR", "--trace", "{badgz}"], "broken gzip data"),
    (["simulate", "--zone", "FR", "--trace", "{empty}"], "is empty"),
    (["simulate", "--zone", "FR", "--trace", "{dir}"], "it is a directory"),
    (["simulate", "--zone", "FR", "--trace", "{missing}"], "no such file"),
    ([*SIM, "--csv", "{missing}/x.csv"], "folder"),
    ([*SIM, "--csv", "{dir}"], "it is a directory"),
    ([*SIM, "--csv", "/dev/full"], "not a regular file"),
    ([*SIM, "--csv", ""], "'--csv': the name is empty"),
    (["simulate", "--zone", "FR", "--start", "2020-06-01", "--end", "2020-03-01"],
     "--end (2020-03-01) must be after --start (2020-06-01)"),
    (["simulate", "--zone", "FR", "--start", "2019-06-01"], "under one day of FR history"),
    (["simulate", "--zone", "FR", "--start", "2021-06-01"], "nothing to simulate"),
    # -- defer: refused before anything waits or runs (MARK would leave a file)
    (["defer", "--within", "1e26d", "--duration", "1h", "-z", "GB", *DB, *MARK],
     "cannot read duration '1e26d'"),
    (["defer", "--within", "1" + "0" * 27 + "d", "--duration", "1h", "-z", "GB", *DB, *MARK],
     "366-day planning horizon"),
    (["defer", "--within", "9" * 400 + "d", "--duration", "1h", "-z", "GB", *DB, *MARK],
     "366-day planning horizon"),
    (["defer", "--within", "367d", "--duration", "1h", "-z", "GB", *DB, *MARK],
     "366-day planning horizon"),
    (["defer", "--within", "", "--duration", "1h", "-z", "GB", *DB, *MARK], "empty duration"),
    (["defer", "--within", "8", "--duration", "1h", "-z", "GB", *DB, *MARK],
     "cannot read duration '8'"),
    (["defer", "--within", "-8h", "--duration", "1h", "-z", "GB", *DB, *MARK],
     "cannot read duration"),
    (["defer", "--within", "nanh", "--duration", "1h", "-z", "GB", *DB, *MARK],
     "cannot read duration"),
    (["defer", "--within", "٣h", "--duration", "1h", "-z", "GB", *DB, *MARK],
     "cannot read duration"),
    (["defer", "--within", "8h", "--duration", "0s", "-z", "GB", *DB, *MARK],
     "--within and --duration must be > 0"),
    (["defer", "--within", "8h", "--duration", "9h", "-z", "GB", *DB, *MARK],
     "cannot finish within 8 h"),
    (["defer", "--within", "8h", "--duration", "1h", "--min-chunk", "400d", "-z", "GB", *DB,
      *MARK], "planning horizon"),
    (["defer", "--within", "8h", "--duration", "1h", "--resume-cost", "x", "-z", "GB", *DB,
      *MARK], "cannot read duration 'x'"),
    (["defer", "--within", "8h", "--duration", "1h", "-z", "XX", *DB, *MARK], "unknown zone"),
    (["defer", "--within", "8h", "--duration", "1h", "-z", "\x00", *DB, *MARK], "unknown zone"),
    (["defer", "--within", "8h", "--duration", "1h", *DB, *MARK], "defer needs --zone"),
    ([*DEFER, "--intensity-trace", "{latin}", *MARK], "not UTF-8 text"),
    ([*DEFER, "--intensity-trace", "{badgz}", *MARK], "broken gzip data"),
    ([*DEFER, "--intensity-trace", "{empty}", *MARK], "is empty"),
    ([*DEFER, "--intensity-trace", "{dir}", *MARK], "it is a directory"),
    ([*DEFER, "--intensity-trace", "{missing}", *MARK], "no such file"),
    ([*DEFER, "--intensity-trace", "{big}", *MARK], "outside the accepted range"),
    ([*DEFER, "--intensity-trace", "{nanv}", *MARK], "not a finite value"),
    ([*DEFER, "--intensity-trace", "{ok}", *MARK], "not the window"),
    ([*DEFER, "--intensity-trace", "{ok}", "--intensity-provider", "ukcarbon", *MARK],
     "not both"),
    ([*DEFER, "--intensity-provider", "nope", *MARK], "unknown intensity provider 'nope'"),
    (["defer", "--within", "8h", "--duration", "1h", "-z", "DE", *DB, "--intensity-provider",
      "ukcarbon", *MARK], "ukcarbon knows zone 'GB'"),
    ([*DEFER, "--", "no-such-command-wattwise-test"], "command not found"),
    ([*DEFER, "--", "a\x00b"], "NUL byte"),
    ([*DEFER, "--", ""], "the command's program is empty ('')"),
    ([*DEFER, "--", "{plain}"], "not executable"),
    (["defer", "--within", "8h", "--duration", "1h", "-z", "GB", "--db", "{dir}", *MARK],
     "is a directory"),
    (["defer", "--within", "8h", "--duration", "1h", "-z", "GB", "--db", "{notsqlite}", *MARK],
     "not a SQLite database"),
    # -- plan: the jobs file, parsed strictly; options; --run refused before any job starts
    (["plan", "{jobs_res_nan}", *DB], "NaN is not a JSON number"),
    (["plan", "{jobs_res_inf}", *DB], "Infinity is not a JSON number"),
    (["plan", "{jobs_res_ninf}", *DB], "-Infinity is not a JSON number"),
    (["plan", "{jobs_res_frac}", *DB], "resources must be a whole number of units, got 1.5"),
    (["plan", "{jobs_res_huge}", *DB], "resources must be a number from 1 to"),
    (["plan", "{jobs_res_zero}", *DB], "resources must be a number from 1 to"),
    (["plan", "{jobs_res_str}", *DB], "resources must be a number, got '2'"),
    (["plan", "{jobs_res_bool}", *DB], "resources must be a number, got True"),
    (["plan", "{jobs_int_no}", *DB], "interruptible must be true or false"),
    (["plan", "{jobs_int_false}", *DB], "interruptible must be true or false"),
    (["plan", "{jobs_int_zero}", *DB], "interruptible must be true or false"),
    (["plan", "{jobs_int_null}", *DB], "interruptible must be true or false"),
    (["plan", "{jobs_y9999}", *DB], "deadline 9999-12-31T00:00:00Z is outside the accepted"),
    (["plan", "{jobs_y2199}", *DB], "366-day planning horizon"),
    (["plan", "{jobs_y0}", *DB], "year 0 is out of range"),
    (["plan", "{jobs_y10000}", *DB], "deadline: cannot read time"),
    (["plan", "{jobs_dl_num}", *DB], "outside the accepted range"),
    (["plan", "{jobs_dl_list}", *DB], "deadline: expected a time"),
    (["plan", "{jobs_earliest_only}", *DB], "earliest needs a deadline too"),
    (["plan", "{jobs_power_nan}", *DB], "NaN is not a JSON number"),
    (["plan", "{jobs_power_huge}", *DB], "power_w must be a number from 0 to"),
    (["plan", "{jobs_power_neg}", *DB], "power_w must be a number from 0 to"),
    (["plan", "{jobs_power_str}", *DB], "power_w must be a number, got '600W'"),
    (["plan", "{jobs_energy_neg}", *DB], "energy_kwh must be a number from 0 to"),
    (["plan", "{jobs_dur_num}", *DB], "duration must be text in quotes"),
    (["plan", "{jobs_dur_zero}", *DB], "is not > 0"),
    (["plan", "{jobs_dur_long}", *DB], "longer than its window"),
    (["plan", "{jobs_within_huge}", *DB], "366-day planning horizon"),
    (["plan", "{jobs_within_inf}", *DB], "366-day planning horizon"),
    (["plan", "{jobs_chunk_bad}", *DB], "cannot read duration '-5m'"),
    (["plan", "{jobs_zone_unknown}", *DB], "unknown zone 'Atlantis'"),
    (["plan", "{jobs_zone_str}", *DB], "zones must be a non-empty list"),
    (["plan", "{jobs_zone_empty}", *DB], "zones must be a non-empty list"),
    (["plan", "{jobs_zone_twice}", *DB], "lists a zone twice"),
    (["plan", "{jobs_name_list}", *DB], "name must be non-empty text"),
    (["plan", "{jobs_name_nul}", *DB], "without control characters"),
    (["plan", "{jobs_name_long}", *DB], "at most 200 characters"),
    (["plan", "{jobs_dup_names}", *DB], "duplicate job names: a"),
    (["plan", "{jobs_cmd_nul}", *DB], "command must not contain NUL bytes"),
    (["plan", "{jobs_cmd_str}", *DB], "command must be a non-empty list of strings"),
    (["plan", "{jobs_unknown_key}", *DB], "unknown field(s) colour"),
    (["plan", "{jobs_like_bad}", *DB], "no run '99999'"),
    (["plan", "{jobs_like_list}", *DB], "like_run must be a run id or name"),
    (["plan", "{jobs_deep}", *DB], "is not usable JSON"),
    (["plan", "{jobs_bigint}", *DB], "is not usable JSON"),
    (["plan", "{jobs_not_obj}", *DB], "an object at the top level, got a JSON list"),
    (["plan", "{jobs_top_str}", *DB], 'expected {"jobs": [...]}'),
    (["plan", "{jobs_no_jobs}", *DB], 'expected {"jobs": [...]}'),
    (["plan", "{jobs_not_json}", *DB], "is not JSON"),
    (["plan", "{jobs_too_many}", *DB], "more than the 10000 one plan takes"),
    (["plan", "{jobs_latin}", *DB], "is not UTF-8 text"),
    (["plan", "{dir}", *DB], "it is a directory"),
    (["plan", "{empty}", *DB], "is empty"),
    (["plan", "{missing}", *DB], "no such file"),
    ([*PLAN, "--capacity", "GB=1e23"], "--capacity GB=1e23: N must be a whole number"),
    ([*PLAN, "--capacity", "GB=" + "1" * 24], "N must be a whole number from 1 to"),
    ([*PLAN, "--capacity", "GB=²"], "N must be a whole number"),
    ([*PLAN, "--capacity", "GB=0"], "N must be a whole number"),
    ([*PLAN, "--capacity", "GB=-1"], "N must be a whole number"),
    ([*PLAN, "--capacity", "GB=nan"], "N must be a whole number"),
    ([*PLAN, "--capacity", "XX=1"], "unknown zone 'XX'"),
    ([*PLAN, "--capacity", "GB"], "--capacity must be ZONE=VALUE"),
    ([*PLAN, "--capacity", "GB=1", "--capacity", "gb=2"], "names zone GB twice"),
    ([*PLAN, "--capacity", "FR=1"], "capacity given for zone(s) without a forecast: FR"),
    ([*PLAN, "--method", "nope"], "--method must be auto, exact, milp or greedy"),
    ([*PLAN, "--method", "exact", "--capacity", "GB=1"], "method 'exact' ignores capacity"),
    ([*PLAN, "--intensity-trace", "GB={latin}"], "not UTF-8 text"),
    ([*PLAN, "--intensity-trace", "GB={badgz}"], "broken gzip data"),
    ([*PLAN, "--intensity-trace", "GB={ok}"], "does not cover"),
    ([*PLAN, "--intensity-trace", "FR={ok}"], "for zone(s) no job uses: FR"),
    ([*PLAN, "--intensity-trace", "=x"], "must be ZONE=VALUE"),
    ([*PLAN, "--zone", "nope"], "unknown zone 'nope'"),
    ([*PLAN, "--zone", "FR"], "the default zone FR (--zone) would be used by none"),
    (["plan", "{jobs_chunk_fixed}", *DB],
     "min_chunk and resume_cost apply to an interruptible job"),
    (["plan", "{jobs_chunk_long}", *DB], "min_chunk '2h' is longer than the whole job (1 h)"),
    ([*DEFER, "--interruptible", "--min-chunk", "2h", *MARK],
     "--min-chunk 2h is longer than the whole job (--duration 1h)"),
    ([*PLAN, "--run"], "no command for job(s) a"),
    (["plan", "{jobs_badcmd}", "--run", *DB], "command not found"),
    (["plan", "{jobs_truecmd}", "--run", "--db", "{dir}"], "is a directory"),
    (["plan", "{jobs_truecmd}", "--run", "--db", "{notsqlite}"], "not a SQLite database"),
    ([*PLAN, "--run", "--ray", "auto"], "not both"),
    ([*PLAN, "--ray", ""], "--ray must be a cluster address"),
]

#: Cases that need a file permission a root user does not feel.
PERMISSION_CASES: list[tuple[list[str], str]] = [
    ([*TRACE, "{unreadable}"], "Permission denied"),
    ([*SIM, "--csv", "{ro}/x.csv"], "no permission"),
]

#: A FIFO (named pipe) wherever a file is read: refused, never read (it would block).
FIFO_CASES: list[tuple[list[str], str]] = [
    ([*TRACE, "{fifo}"], "it is a FIFO"),
    (["simulate", "--zone", "FR", "--trace", "{fifo}"], "it is a FIFO"),
    ([*DEFER, "--intensity-trace", "{fifo}", *MARK], "it is a FIFO"),
    (["plan", "{fifo}", *DB], "it is a FIFO"),
    ([*PLAN, "--intensity-trace", "GB={fifo}"], "it is a FIFO"),
    ([*SIM, "--csv", "{fifo}"], "not a regular file"),
]

#: A bad config.toml (where --zone is not given): kind of file -> substring.
CONFIG_CASES: list[tuple[str, str]] = [
    ("toml", "not valid TOML"),
    ("number", "zone must be a zone name in quotes"),
    ("unknown", "unknown zone 'Atlantis'"),
    ("empty_zone", "zone must be a zone name in quotes"),
    ("nul", "not valid TOML"),
    ("deep", "config file"),
    ("latin", "is not UTF-8 text"),
    ("dir", "it is a directory"),
]

#: Usage errors Click finds (a value of the wrong type): one line too, from the app's
#: group, which another part of the CLI owns; kept here to pin them for these commands.
CLICK_CASES: list[tuple[list[str], str]] = [
    (["simulate", "--seed", "abc"], "--seed"),
    (["simulate", "--seed", "1.5"], "--seed"),
    (["defer", "--within", "8h", "-z", "GB", "--", "true"], "--duration"),
    (["plan"], "missing argument 'jobs_file'"),
    (["intensity"], "missing argument 'zone'"),
]


def test_there_are_enough_cases() -> None:
    n = len(CASES) + len(PERMISSION_CASES) + len(FIFO_CASES) + len(CONFIG_CASES)
    assert n >= 200


def _run_case(files: dict[str, Path], args: list[str], expected: str,
              env: dict[str, str | None] | None = None) -> None:
    argv = fill(args, files)
    env = env or env_for(files["home"])
    before = snapshot(files["data"], files["home"])
    stdout, stderr, code, exc = invoke(argv, env)
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


@pytest.mark.skipif(ROOT, reason="root reads and writes whatever the permissions say")
@pytest.mark.parametrize("args,expected", PERMISSION_CASES,
                         ids=[case_id(c) for c in PERMISSION_CASES])
def test_a_path_without_permission_is_one_line(
    files: dict[str, Path], args: list[str], expected: str
) -> None:
    _run_case(files, args, expected)


@pytest.mark.parametrize("args,expected", FIFO_CASES, ids=[case_id(c) for c in FIFO_CASES])
def test_a_fifo_is_refused_without_waiting_for_a_writer(
    files: dict[str, Path], args: list[str], expected: str
) -> None:
    before = snapshot(files["data"], files["home"])
    stdout, stderr, code = invoke_subprocess(fill(args, files), env_for(files["home"]))
    check_refusal(stdout, stderr, code, expected)
    assert snapshot(files["data"], files["home"]) == before


@pytest.mark.parametrize("kind,expected", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_a_bad_config_file_is_one_line(files: dict[str, Path], kind: str,
                                       expected: str) -> None:
    config = make_config(files["home"], kind, files)
    args = ["defer", "--within", "8h", "--duration", "1h", *DB, *MARK]
    _run_case(files, args, expected, env_for(files["home"], config))


def test_a_fifo_config_file_is_refused_without_waiting(files: dict[str, Path]) -> None:
    config = make_config(files["home"], "fifo", files)
    args = fill(["defer", "--within", "8h", "--duration", "1h", *DB, *MARK], files)
    stdout, stderr, code = invoke_subprocess(args, env_for(files["home"], config))
    check_refusal(stdout, stderr, code, "it is a FIFO")


def test_no_refused_command_ever_ran(files: dict[str, Path]) -> None:
    assert not (files["data"] / "marker-should-not-exist").exists()
