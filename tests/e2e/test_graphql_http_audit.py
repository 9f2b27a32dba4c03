"""The API passes the GraphQL over HTTP spec audit that the frontend teams run: graphql-http's
`auditServer`, from its npm package, against the live app.

Every audit passes: MUST, and the SHOULD and MAY recommendations too (the view answers
`application/graphql-response+json` as the spec describes). To see them all:
`node tests/e2e/node/audit.mjs <url>/graphql`.
"""

from __future__ import annotations

import pytest

from tests.e2e.node_tools import AuditResult, audit_server

# graphql-http 1.23.1 has 13 MUST audits (61 in all); far fewer means the audit did not run.
MINIMUM_MUST_AUDITS = 10


@pytest.fixture(scope="module")
async def audit(server_url: str) -> list[AuditResult]:
    return await audit_server(f"{server_url}/graphql")


def must_audits(audit: list[AuditResult]) -> list[AuditResult]:
    return [result for result in audit if result.requirement == "MUST"]


def test_the_audit_checks_the_must_requirements(audit: list[AuditResult]) -> None:
    assert len(must_audits(audit)) >= MINIMUM_MUST_AUDITS, audit


def test_every_must_audit_passes(audit: list[AuditResult]) -> None:
    failures = [result.describe() for result in must_audits(audit) if not result.passed]
    assert failures == []


@pytest.mark.parametrize("requirement", ["SHOULD", "MAY"])
def test_every_recommended_audit_passes(audit: list[AuditResult], requirement: str) -> None:
    failures = [
        result.describe()
        for result in audit
        if result.requirement == requirement and not result.passed
    ]
    assert failures == []
