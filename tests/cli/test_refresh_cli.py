"""`wattwise estimate refresh`: the README's two examples give payback times with ranges."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.estimate.refresh import zone_intensity

_register_all()
runner = CliRunner()

#: The README's V100 -> H100 example: J/token and tokens/s of `wattwise estimate infer`
#: (7B, vllm, batch 32, 512 prompt + 256 output tokens, fp16, PUE 1).
V100_H100 = [
    "estimate", "refresh", "--keep", "V100 SXM2", "--replace", "H100 SXM5", "--unit", "token",
    "--a-j-per-unit", "0.301:0.463:1.02", "--b-j-per-unit", "0.194:0.284:0.652",
    "--a-throughput", "719", "--b-throughput", "3398", "--utilisation", "0.5", "--zone", "DE",
    "--a-remaining-years", "2", "--b-lifetime-years", "3:5:6",
]


def _invoke(*args: str, code: int = 0) -> Any:
    r = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert r.exit_code == code, r.output
    return r


def test_v100_to_h100_pays_back_with_a_range() -> None:
    out = json.loads(_invoke(*V100_H100, "--json").stdout)
    pb = out["payback_years"]
    units = 0.5 * 719 * 365.25 * 86400
    grid = zone_intensity("DE")[0].value  # the shipped yearly figure
    saved_g = units * (0.463 - 0.284) / 3.6e6 * grid
    assert pb["years"] == pytest.approx(164_000.0 / saved_g, rel=1e-9)
    assert pb["low_years"] == pytest.approx(
        164_000.0 / (units * (1.02 - 0.194) / 3.6e6 * grid), rel=1e-9)
    assert pb["high_never"] is True  # at the unfavourable ends B saves nothing
    assert "NVIDIA HGX H100" in out["embodied_b_g"]["derivation"]
    assert out["verdict"].startswith("pays back in")
    text = _invoke(*V100_H100).stdout
    assert "Carbon payback: pays back in" in " ".join(text.split())


def _bench(tmp_path: Path) -> Path:
    """The README's CPU example's bench record (`wattwise bench digits-mlp -r 5 --json`)."""
    p = tmp_path / "old-server-bench.json"
    p.write_text(json.dumps([{
        "name": "digits-mlp", "kind": "estimated", "machine": "Intel(R) Xeon(R) Processor x2",
        "run_id": None,
        "energy_j_per_sample": {"mean": 0.0031485754976712473, "low": 0.0015111144605274927,
                                "high": 0.006733737866940882},
        "throughput": {"mean": 6297.161626287458, "low": 3135.6552162642815,
                       "high": 13974.699028263625}}]))
    return p


def test_cpu_only_example_gives_a_payback_with_its_range(tmp_path: Path) -> None:
    args = ["estimate", "refresh", "--keep", "old CPU server", "--replace", "new CPU server",
            "--a-bench", str(_bench(tmp_path)), "--a-idle-w", "120",
            "--b-j-per-unit", "0.0015:0.0021:0.0027", "--b-j-source", "assumed",
            "--b-throughput", "9000", "--b-idle-w", "60", "--utilisation", "0.3",
            "--zone", "DE", "--b-embodied", "server-base-minimal",
            "--a-remaining-years", "3", "--json"]
    out = json.loads(_invoke(*args).stdout)
    pb = out["payback_years"]
    assert pb["low_years"] < pb["years"] < pb["high_years"]
    assert math.isfinite(pb["high_years"])
    assert "Cloud Carbon Footprint" in out["embodied_b_g"]["derivation"]
    assert "bench digits-mlp" in out["energy_a_kwh_per_year"]["derivation"]
    assert out["verdict"].startswith("never pays back within new CPU server's 4-year")


@pytest.mark.parametrize(("extra", "says"), [
    (["--utilisation", "2"], "utilisation"),
    (["--a-j-per-unit", "x"], "--a-j-per-unit"),
    (["--b-embodied", "no-such-device"], "no embodied figure"),
    # plain numbers only, as every number option of the CLI
    (["--a-j-per-unit", "1_0"], "--a-j-per-unit: '1_0' is not a plain number"),
    (["--a-j-per-unit", "\u0661"], "--a-j-per-unit: "),
    (["--intensity", "1_00", "--zone", None], "--intensity: '1_00' is not a plain number"),
    (["--b-embodied", "1_00"], "--b-embodied: '1_00' is not a plain number"),
    (["--b-embodied", "\uff11\uff10\uff10"], "--b-embodied: "),
    (["--b-lifetime-years", "1_0"], "--b-lifetime-years: '1_0' is not a plain number"),
    (["--units-per-year", "1_000", "--utilisation", None], "--units-per-year: '1_000'"),
    # a source for a shipped figure would be dropped: refused
    (["--b-embodied", "H100 SXM5", "--b-embodied-source", "my LCA"],
     "--b-embodied-source describes a figure given in kg"),
    (["--b-embodied-source", "my LCA"], "the shipped figure of 'H100 SXM5'"),
    (["--a-lifetime-years", "5"], "give A's embodied carbon too"),
    # contradictory or implausible lifetimes and embodied figures
    (["--a-remaining-years", "5", "--a-lifetime-years", "3", "--a-embodied", "100"],
     "A's remaining lifetime 5 years is more than its whole lifetime (3 years)"),
    (["--a-remaining-years", "3", "--a-lifetime-years", "2:4:6", "--a-embodied", "100"],
     "whole lifetime (2 to 6 years)"),
    (["--a-remaining-years", "40"], "A's remaining lifetime 40 years is more than wattwise "
     "accepts"),
    (["--a-lifetime-years", "1e9", "--a-embodied", "100"], "A's lifetime 1e+09 years is more"),
    (["--b-lifetime-years", "0.0001"], "B's lifetime 0.0001 years is less than wattwise "
     "accepts: at least 0.1 years"),
    (["--b-lifetime-years", "0.05:4:6"], "B's lifetime 0.05 years is less"),
    (["--b-embodied", "1e30"], "B's embodied carbon 1e+30 kgCO2eq is more than wattwise "
     "accepts: at most 1,000,000 kgCO2eq"),
    (["--a-embodied", "1e7"], "A's embodied carbon 10,000,000 kgCO2eq is more"),
    (["--b-embodied-kwh", "1e30"], "B's embodied energy 1e+30 kWh is more than wattwise "
     "accepts: at most 1e+09 kWh"),
    (["--b-embodied-kwh", "1:2:1e10"], "B's embodied energy 1e+10 kWh is more"),
    (["--keep", ""], "cannot be empty"),
    # free text is printed: 1-256 printable characters, as `report --unit`
    (["--unit", "x\x1b[31mRED"], "--unit must be 1-256 printable characters, got "
     "'x\\x1b[31mRED'"),
    (["--keep", "a\nb"], "--keep must be 1-256 printable characters, got 'a\\nb'"),
    (["--replace", "x" * 5000], "--replace must be 1-256 printable characters"),
    (["--unit", "x" * 257], "(257 chars)"),
    (["--a-j-source", "src\x01"], "--a-j-source must be 1-256 printable characters"),
    (["--b-j-source", "\x1b]0;title\x07"], "--b-j-source must be 1-256 printable"),
    (["--b-embodied", "100", "--b-embodied-source", "a\rb"],
     "--b-embodied-source must be 1-256 printable characters, got 'a\\rb'"),
    # one device's idle draw is bounded as its power
    (["--a-idle-w", "1e9"], "V100 SXM2's idle power 1e+09 W is more than wattwise accepts"),
    (["--b-idle-w", "20000"], "H100 SXM5's idle power 20,000 W is more"),
    # an option that needs a bench file is refused without one
    (["--bench-name", "x"], "--bench-name picks a result of a bench file"),
    (["--keep", "H100 SXM5"], "the same device"),
])
def test_refresh_bad_input_is_one_line_exit_2(extra: list[Any], says: str) -> None:
    args = [a for a in V100_H100]
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        if value is None:  # drop the option
            del args[args.index(flag):args.index(flag) + 2]
        elif flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    r = _invoke(*args, code=2)
    assert says in r.output
    assert r.output.count("wattwise: error:") == 1


def test_a_lifetime_spreads_a_embodied_carbon_and_b_lifetime_does_not() -> None:
    def sci_a(*extra: str) -> float:
        out = json.loads(_invoke(*V100_H100, "--a-embodied", "50", *extra, "--json").stdout)
        return float(out["sci_a_g_per_unit"]["value"])

    assert sci_a("--b-lifetime-years", "4") == sci_a("--b-lifetime-years", "10")
    four = sci_a()  # the default: 4 years, central
    assert sci_a("--a-lifetime-years", "4") == pytest.approx(four)
    units = 0.5 * 719 * 365.25 * 86400
    assert four - sci_a("--a-lifetime-years", "8") == pytest.approx(
        50_000.0 / units * (1 / 4 - 1 / 8))
    r = _invoke(*V100_H100, "--a-embodied", "50")
    assert "lifetime for its SCI: 3-6 years" in " ".join(r.stdout.split())


def test_b_embodied_in_kg_keeps_its_stated_source() -> None:
    out = json.loads(_invoke(*V100_H100, "--b-embodied", "100", "--b-embodied-source",
                             "my LCA", "--json").stdout)
    assert out["embodied_b_g"]["derivation"] == "100 kgCO2eq my LCA"


def test_a_zero_embodied_figure_is_noted() -> None:
    out = " ".join(_invoke(*V100_H100, code=0).stdout.split())
    assert "given as 0" not in out
    args = [*V100_H100, "--b-embodied", "0"]
    out = " ".join(_invoke(*args, code=0).stdout.split())
    assert "H100 SXM5's embodied carbon is given as 0" in out
    out = " ".join(_invoke(*V100_H100, "--b-embodied-kwh", "0").stdout.split())
    assert "H100 SXM5's embodied energy is given as 0: making hardware uses energy" in out
    assert "embodied energy is given as 0" not in " ".join(
        _invoke(*V100_H100, "--b-embodied-kwh", "1e7").stdout.split())


@pytest.mark.parametrize(("extra", "says"), [
    # the bench file's measured throughput would be replaced with no word
    (["--a-throughput", "5"], "--a-throughput and --a-bench both give A's throughput"),
    # the bench file names its own source: --a-j-source would be dropped
    (["--a-j-source", "foo"], "--a-j-source describes --a-j-per-unit; a bench file names"),
    (["--a-j-per-unit", "1"], "--a-j-per-unit or --a-bench, one of them"),
    # the bench file's figures are per sample: another unit would relabel them
    (["--unit", "token"], "--unit 'token': a bench file (--a-bench) gives J per sample and "
     "samples/s, which --unit would relabel"),
])
def test_options_a_bench_file_would_override_are_refused(tmp_path: Path, extra: list[str],
                                                         says: str) -> None:
    args = ["estimate", "refresh", "--keep", "old", "--replace", "new",
            "--a-bench", str(_bench(tmp_path)), "--b-j-per-unit", "0.001:0.002:0.003",
            "--b-throughput", "9000", "--utilisation", "0.3", "--zone", "DE",
            "--b-embodied", "500", "--a-remaining-years", "3", *extra]
    r = _invoke(*args, code=2)
    assert says in r.output
    assert r.output.count("wattwise: error:") == 1
    ok = _invoke(*args[:-len(extra)], "--bench-name", "digits-mlp", "--json")
    assert json.loads(ok.stdout)["units_per_year"]["value"] == pytest.approx(
        0.3 * 6297.161626287458 * 365.25 * 86400)


def test_a_crafted_bench_file_is_refused_with_its_field(tmp_path: Path) -> None:
    p = _bench(tmp_path)
    rec = json.loads(p.read_text())
    rec[0]["energy_j_per_sample"]["low"] = 5
    p.write_text(json.dumps(rec))
    args = ["estimate", "refresh", "--keep", "old", "--replace", "new", "--a-bench", str(p),
            "--b-j-per-unit", "0.002", "--b-throughput", "9000", "--utilisation", "0.3",
            "--zone", "DE", "--b-embodied", "500", "--a-remaining-years", "3"]
    r = _invoke(*args, code=2)
    assert "energy_j_per_sample.low 5 is above its mean" in r.output
    rec[0]["energy_j_per_sample"]["low"] = 0.0015
    rec[0]["kind"], rec[0]["source"] = "measured", "model:ccf-vcpu Emerald Rapids"
    p.write_text(json.dumps(rec))
    r = _invoke(*args, code=2)
    assert "kind 'measured' contradicts its source 'model:ccf-vcpu" in r.output


def test_a_bench_interval_of_orders_of_magnitude_is_noted(tmp_path: Path) -> None:
    p = _bench(tmp_path)
    rec = json.loads(p.read_text())
    args = ["estimate", "refresh", "--keep", "old", "--replace", "new", "--a-bench", str(p),
            "--b-j-per-unit", "0.002", "--b-throughput", "9000", "--utilisation", "0.3",
            "--zone", "DE", "--b-embodied", "500", "--a-remaining-years", "3"]
    assert not any("95 % interval" in n
                   for n in json.loads(_invoke(*args, "--json").stdout)["notes"])
    rec[0]["energy_j_per_sample"] = {"mean": 0.0201, "low": 2.93e-06, "high": 191.2, "n": 2}
    p.write_text(json.dumps(rec))
    notes = json.loads(_invoke(*args, "--json").stdout)["notes"]
    assert any("2.93e-06 to 191 J/sample" in n and "n = 2" in n for n in notes)
    assert "(n = 2)" in " ".join(_invoke(*args).stdout.split())


def test_one_bench_file_for_both_devices_is_refused(tmp_path: Path) -> None:
    p = _bench(tmp_path)
    args = ["estimate", "refresh", "--keep", "old", "--replace", "new", "--a-bench", str(p),
            "--b-bench", str(tmp_path / "." / p.name), "--utilisation", "0.3", "--zone", "DE",
            "--b-embodied", "500", "--a-remaining-years", "3"]
    r = _invoke(*args, code=2)
    assert "--a-bench and --b-bench are the same file" in r.output
    assert r.output.count("wattwise: error:") == 1
    # a copy is read, and refused as one result for two devices
    copy = tmp_path / "copy.json"
    copy.write_text(p.read_text())
    args[args.index("--b-bench") + 1] = str(copy)
    r = _invoke(*args, code=2)
    assert "A and B are given the same figures from one source" in r.output


def test_an_interval_with_a_low_of_0_is_printed_as_the_file_gives_it(tmp_path: Path) -> None:
    p = _bench(tmp_path)
    rec = json.loads(p.read_text())
    rec[0]["energy_j_per_sample"].update(low=0.0, n=-3)
    p.write_text(json.dumps(rec))
    args = ["estimate", "refresh", "--keep", "old", "--replace", "new", "--a-bench", str(p),
            "--b-j-per-unit", "0.002", "--b-throughput", "9000", "--utilisation", "0.3",
            "--zone", "DE", "--b-embodied", "500", "--a-remaining-years", "3", "--json"]
    notes = [n for n in json.loads(_invoke(*args).stdout)["notes"] if "95 %" in n]
    assert len(notes) == 1
    assert "its 95 % interval 0 to 0.00673 J/sample" in notes[0]
    assert "its low end is more than 10x below its mean" in notes[0]
    assert "n = -3" not in notes[0] and "n not stated" in notes[0]
