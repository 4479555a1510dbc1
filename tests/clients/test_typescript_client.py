"""TypeScript types generated from the schema by openapi-typescript (pinned in
tests/clients/typescript/package.json, installed there by `make test` with `npm ci`: no global
install), without a warning, and type-checked with `tsc --strict` against code a client would write
(tests/clients/typescript/usage.ts). Skipped, with the reason, where npm could not install them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent / "typescript"
BIN = HERE / "node_modules" / ".bin"
GENERATOR, COMPILER = BIN / "openapi-typescript", BIN / "tsc"


def run(*command: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.fixture
def tools() -> None:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    if not (GENERATOR.exists() and COMPILER.exists()):
        pytest.skip(
            "openapi-typescript is not installed: run `npm ci` in tests/clients/typescript (make test does)"
        )


def test_openapi_typescript_generates_types_that_type_check(
    tools: None, api: Any, db: Any, tmp_path: Path
) -> None:
    schema = api(None).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(schema), encoding="utf-8")
    output = run(GENERATOR, source, "--output", tmp_path / "schema.d.ts", cwd=tmp_path)
    assert "warn" not in output.lower() and "error" not in output.lower(), output
    types = (tmp_path / "schema.d.ts").read_text(encoding="utf-8")
    assert "next_cursor: string | null;" in types
    assert "beneficiary?: number;" in types
    shutil.copy(HERE / "usage.ts", tmp_path / "usage.ts")
    run(
        COMPILER,
        "--strict",
        "--noEmit",
        "--target",
        "es2020",
        "--module",
        "esnext",
        "--moduleResolution",
        "bundler",
        "usage.ts",
        cwd=tmp_path,
    )
