"""A run found by the reference a user gives: a name is matched as given, spaces kept (a
run named " pad " is found by " pad " and "name: pad "), and then stripped (" a b " finds
"a b", as a pasted name with a space around it should); a blank reference is refused
as blank, not as "no run ''"."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattwise.errors import BadInput
from wattwise.records.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "r.db")
    for name in (" pad ", "a b", "7"):
        s.create_run(name=name, started_unix_s=1.8e9, host={}, hardware={}, versions={},
                     sensors=[])
    return s


@pytest.mark.parametrize("ref, found", [
    (" pad ", " pad "), ("name: pad ", " pad "), ("a b", "a b"), (" a b ", "a b"),
    ("name:a b ", "a b"), ("name: a b", "a b"), ("name:7", "7"), (" 3 ", "7"),
    ("latest", "7"),
])
def test_a_name_is_matched_as_given_then_stripped(store: Store, ref: str, found: str) -> None:
    assert store.get_run(ref).name == found


@pytest.mark.parametrize("ref", ["", " ", "\t\n"])
def test_a_blank_reference_is_said_to_be_blank(store: Store, ref: str) -> None:
    with pytest.raises(BadInput, match=r"^the run reference is blank: give an id, a name"):
        store.get_run(ref)


@pytest.mark.parametrize("ref", ["name:", "name:   ", " name:\t"])
def test_a_blank_name_is_said_to_be_blank(store: Store, ref: str) -> None:
    with pytest.raises(BadInput, match=r"^the run reference is blank: give a name after"):
        store.get_run(ref)


@pytest.mark.parametrize("ref, said", [("pad", "no run 'pad'"),
                                       ("name:nope", "no run named 'nope'")])
def test_no_such_run_names_what_was_looked_for(store: Store, ref: str, said: str) -> None:
    with pytest.raises(BadInput, match=f"^{said} in "):
        store.get_run(ref)


@pytest.mark.parametrize(("ref", "code", "said"), [
    ("name:", 404, "give a name after 'name:'"),
    ("name:%20%20", 404, "give a name after 'name:'"),
    ("%20", 404, "give an id, a name or 'latest'"),
    ("name:nobody", 404, "no run named 'nobody'"),
])
def test_the_api_says_a_blank_reference_is_blank(
        tmp_path: Path, ref: str, code: int, said: str) -> None:
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    Store(tmp_path / "r.db").create_run(name="a", started_unix_s=1.8e9, host={},
                                        hardware={}, versions={}, sensors=[])
    with TestClient(create_app(tmp_path / "r.db"), base_url="http://127.0.0.1") as c:
        for path in (f"/api/runs/{ref}", f"/api/runs/{ref}/timeline", f"/api/plans/{ref}"):
            got = c.get(path)
            assert got.status_code == code and said in got.json()["error"], (path, got.text)
