"""A database made before results, uploads and paired comparisons had their own apps migrates in place.

The test database is taken back to the migrations that kept every model in
``submissions`` and ``leaderboards``, a row goes into each of their tables
through the models as they were then, and the database is migrated forward
again (Django's ``MigrationExecutor``, as Django's own migration tests do):
every row is found through the models' new apps, unmoved.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("benchmarks", "0002_task_from_registry"),
    ("submissions", "0004_upload_ledger"),
    ("leaderboards", "0002_comparison_claims"),
]


def migrate(targets: list[tuple[str, str]] | None) -> StateApps:
    """Migrate to ``targets`` (every app's latest when None); the models as they are there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def old_rows(apps: StateApps) -> dict[str, object]:
    """One row in each table the moved models use, written through the models as they were."""
    user = apps.get_model("auth", "User").objects.create(username="olduser")
    benchmark = apps.get_model("benchmarks", "Benchmark").objects.create(
        slug="oldbench", title="Old", task="classification", spec={})
    protocol = apps.get_model("benchmarks", "ProtocolVersion").objects.create(
        benchmark=benchmark, version=1, spec_hash="s" * 64, protocol_hash="p" * 64, spec={}, is_current=True)
    submission_model = apps.get_model("submissions", "Submission")
    first, second = (submission_model.objects.create(owner=user, benchmark=benchmark, protocol=protocol,
                                                     kind="predictions", method_name=name, status="finished")
                     for name in ("first", "second"))
    result_model = apps.get_model("submissions", "Result")
    upper = result_model.objects.create(submission=first, protocol_hash="p" * 64, metrics={"top1_error": 0.25},
                                        evidence="evidence/oldbench/a.npz")
    lower = result_model.objects.create(submission=second, protocol_hash="p" * 64, metrics={"top1_error": 0.5})
    value = apps.get_model("submissions", "MetricValue").objects.create(
        result=upper, submission=first, benchmark=benchmark, protocol=protocol, name="top1_error", value=0.25)
    comparison = apps.get_model("leaderboards", "PairedComparison").objects.create(
        metric="top1_error", first=upper, second=lower, state="done", p_value=0.01)
    upload = apps.get_model("submissions", "ChunkedUpload").objects.create(
        id=uuid.uuid4(), owner=user, benchmark=benchmark, kind="tarball", filename="model.tar", total_bytes=10)
    ledger = apps.get_model("submissions", "UploadLedger").objects.create(pk=1)
    return {"submission": first.pk, "result": upper.pk, "value": value.pk, "comparison": comparison.pk,
            "upload": upload.pk, "ledger": ledger.pk, "benchmark": benchmark.pk}


def test_a_database_from_before_the_split_keeps_every_row() -> None:
    try:
        rows = old_rows(migrate(BEFORE))
        apps = migrate(None)
    finally:
        migrate(None)
    result = apps.get_model("results", "Result").objects.get(pk=rows["result"])
    assert (result.submission_id, result.metrics, result.evidence.name) == (
        rows["submission"], {"top1_error": 0.25}, "evidence/oldbench/a.npz")
    value = apps.get_model("results", "MetricValue").objects.get(pk=rows["value"])
    assert (value.result_id, value.name, value.value) == (rows["result"], "top1_error", 0.25)
    comparison = apps.get_model("results", "PairedComparison").objects.get(pk=rows["comparison"])
    assert (comparison.first_id, comparison.state, comparison.p_value) == (rows["result"], "done", 0.01)
    upload = apps.get_model("uploads", "ChunkedUpload").objects.get(pk=rows["upload"])
    assert (upload.filename, upload.total_bytes, upload.kind) == ("model.tar", 10, "tarball")
    assert apps.get_model("uploads", "UploadLedger").objects.filter(pk=rows["ledger"]).exists()
    assert apps.get_model("submissions", "Submission").objects.get(pk=rows["submission"]).result.pk == rows["result"]
    assert apps.get_model("benchmarks", "Benchmark").objects.get(pk=rows["benchmark"]).order is None


def test_the_moved_models_keep_their_tables_and_content_types() -> None:
    try:
        migrate(BEFORE)
    finally:
        migrate(None)
    tables = set(connection.introspection.table_names())
    assert {"submissions_result", "submissions_metricvalue", "leaderboards_pairedcomparison",
            "submissions_chunkedupload", "submissions_uploadledger"} <= tables
    moved = {(ct.app_label, ct.model) for ct in ContentType.objects.filter(
        model__in=["result", "metricvalue", "pairedcomparison", "chunkedupload", "uploadledger"])}
    assert moved == {("results", "result"), ("results", "metricvalue"), ("results", "pairedcomparison"),
                     ("uploads", "chunkedupload"), ("uploads", "uploadledger")}
