"""Property run over the dashboard's OpenAPI schema: whatever a client sends in the path
and query, valid or not, the answer is never a 5xx and conforms to the schema.

In-process (ASGI transport: no socket, no network), with a token and the real Host
header, over a database whose every stored text is a payload. Schemathesis draws the
cases from the schema; hypothesis runs them (its pytest plugin needs a pytest older
than this project's, so the operations are driven here).
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402

from tests.server._hostile import hostile_db, hostile_results  # noqa: E402
from wattwise.server import create_app  # noqa: E402

BASE = "http://127.0.0.1:8787"
TOKEN = "property-run-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("prop") / "runs.db"
    hostile_results(db, hostile_db(db))
    app = create_app(db, port=8787, token=TOKEN)
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", app, headers={**AUTH, "Host": "127.0.0.1:8787"}
    )
    ops = {f"{op.method.upper()} {op.path}": op
           for op in (result.ok() for result in schema.get_all_operations())}
    assert set(ops) == {"GET /api/runs", "GET /api/runs/{ref}", "GET /api/runs/{ref}/timeline",
                        "GET /metrics", "GET /api/bench", "GET /api/compress",
                        "GET /api/compress/{run_id}", "GET /api/compress/{run_id}/front.svg",
                        "GET /api/tune/{run_id}", "GET /api/tune/{run_id}/frontier.svg",
                        "GET /api/plans", "GET /api/plans/{ref}", "GET /api/compare",
                        "GET /api/found"}
    return ops


_POSITIVE, _NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE


# Negative cases only where the schema constrains something: any string is a valid {ref}.
@pytest.mark.parametrize(
    ("label", "mode"),
    [("GET /api/runs", _POSITIVE), ("GET /api/runs", _NEGATIVE),
     ("GET /api/runs/{ref}", _POSITIVE),
     ("GET /api/runs/{ref}/timeline", _POSITIVE), ("GET /api/runs/{ref}/timeline", _NEGATIVE),
     ("GET /metrics", _POSITIVE),
     ("GET /api/bench", _POSITIVE), ("GET /api/bench", _NEGATIVE),
     ("GET /api/compress", _POSITIVE),
     ("GET /api/compress/{run_id}", _POSITIVE), ("GET /api/compress/{run_id}", _NEGATIVE),
     ("GET /api/compress/{run_id}/front.svg", _POSITIVE),
     ("GET /api/tune/{run_id}", _POSITIVE), ("GET /api/tune/{run_id}", _NEGATIVE),
     ("GET /api/tune/{run_id}/frontier.svg", _POSITIVE),
     ("GET /api/plans", _POSITIVE), ("GET /api/plans", _NEGATIVE),
     ("GET /api/plans/{ref}", _POSITIVE),
     ("GET /api/compare", _POSITIVE), ("GET /api/compare", _NEGATIVE),
     ("GET /api/found", _POSITIVE), ("GET /api/found", _NEGATIVE)],
)
def test_no_path_or_query_value_gets_a_server_error(
    operations: dict[str, Any], label: str, mode: GenerationMode
) -> None:
    seen: list[int] = []

    @given(case=operations[label].as_strategy(generation_mode=mode))
    @settings(max_examples=50, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        response = case.call(base_url=BASE, headers=AUTH)
        seen.append(response.status_code)
        assert response.status_code < 500, (label, case.path_parameters, case.query)
        if response.status_code == 414:
            # a request line past what the dashboard reads (a drawn value of thousands of
            # characters, percent-encoded) is refused before any parameter is read: the
            # rejection of invalid data, in its own words
            assert "URI too long" in response.text, response.text
            return
        assert response.headers.get("content-type")
        case.validate_response(response, headers=AUTH, transport_kwargs={"base_url": BASE})

    check()
    assert seen
