"""Failures reach the caller as statuses with google.rpc details, never as tracebacks."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2

from jixiao.api.errors import status_for
from jixiao.core.errors import FactsError, FactViolation
from jixiao.core.identifiers import InvalidIdentifier, check_pack_id, echo
from jixiao.packs import PackNotFound

from status_details import details


def test_every_fact_violation_is_a_field_violation_in_one_invalid_argument_status() -> None:
    error = FactsError([
        FactViolation("budget.spent", "missing (expected a decimal number)"),
        FactViolation("output.trainings_held", "expected an integer, got 'abc'"),
    ])

    status = status_for(error)

    assert status.code is grpc.StatusCode.INVALID_ARGUMENT
    (bad_request,) = details(status, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("facts.budget.spent", "missing (expected a decimal number)"),
        ("facts.output.trainings_held", "expected an integer, got 'abc'"),
    ]
    assert status.details == "2 invalid facts: budget.spent, output.trainings_held"


def test_the_message_names_a_few_facts_and_the_details_carry_all_of_them() -> None:
    error = FactsError([FactViolation(f"fact{i}", "missing") for i in range(70)])

    status = status_for(error)

    assert status.details == "70 invalid facts: fact0, fact1, fact2, fact3, fact4, …"
    (bad_request,) = details(status, error_details_pb2.BadRequest)
    assert len(bad_request.field_violations) == 70


def test_violations_past_the_8_kib_trailer_limit_are_counted_but_not_listed() -> None:
    error = FactsError([
        FactViolation(f"section{i}.some_fact_name", 'missing (expected a decimal number such as "398761.00")')
        for i in range(300)
    ])

    status = status_for(error)

    (bad_request,) = details(status, error_details_pb2.BadRequest)
    listed = len(bad_request.field_violations)
    assert 50 < listed < 300
    assert status.details.startswith("300 invalid facts: section0.some_fact_name")
    assert status.details.endswith(f"(the details list the first {listed})")
    assert sum(len(value) for _, value in status.trailing_metadata) + len(status.details) < 8 * 1024


def test_unknown_pack_is_not_found_with_resource_info() -> None:
    status = status_for(PackNotFound("pack 'p' has no version '9.9.9'; known versions: 1.0.0", "p", "9.9.9"))

    assert status.code is grpc.StatusCode.NOT_FOUND
    (resource,) = details(status, error_details_pb2.ResourceInfo)
    assert resource.resource_type == "jixiao.v1.Pack"
    assert resource.resource_name == "p@9.9.9"
    assert "9.9.9" in resource.description


def test_unexpected_errors_are_internal_with_an_error_id_and_no_exception_text() -> None:
    status = status_for(KeyError("budget.secret_internal_detail"))

    assert status.code is grpc.StatusCode.INTERNAL
    assert "secret_internal_detail" not in status.details
    assert "error id" in status.details


def test_a_bad_identifier_is_invalid_argument_naming_its_field_and_quoting_little_of_it() -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        check_pack_id("x" * 10_000 + "\n")
    status = status_for(refused.value)

    assert status.code is grpc.StatusCode.INVALID_ARGUMENT
    assert status.details.startswith("pack_id: 10001 characters, more than 64")
    (bad_request,) = details(status, error_details_pb2.BadRequest)
    assert [v.field for v in bad_request.field_violations] == ["pack_id"]
    assert sum(len(value) for _, value in status.trailing_metadata) < 500


def test_a_huge_unknown_pack_is_quoted_bounded_in_not_found() -> None:
    huge = "p" * 100_000
    status = status_for(PackNotFound(f"no pack '{echo(huge)}'", huge))

    (resource,) = details(status, error_details_pb2.ResourceInfo)
    assert len(resource.resource_name) < 100 and "100000 characters" in resource.resource_name
    assert sum(len(value) for _, value in status.trailing_metadata) < 1_000
