"""The migrations: they make exactly what schema.py describes, take over a registry made
before them with its data, and four processes migrating one empty database at once all
succeed (one migrates, the others wait on the lock and find it done)."""

from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from jixiao.database import schema
from jixiao.database.connection import create_engine
from jixiao.database.migrate import current_revision, head_revision, upgrade
from jixiao.registry.store import Registry

BACKENDS = ("sqlite", "postgresql")
PACK = "quality-district-funding"


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jixiao.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database()


def test_the_migrations_make_exactly_what_schema_py_describes(empty_url: str) -> None:
    engine = create_engine(empty_url)
    assert upgrade(engine) is True
    assert upgrade(engine) is False  # already at the head: nothing done
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, schema.metadata)
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert differences == []
    assert tables == set(schema.metadata.tables) | {"alembic_version"}


# What the registry's create_all made before migrations existed (an even older registry:
# without the digest index, which came later), with a published and activated version.
OLD_REGISTRY = [
    """CREATE TABLE pack_versions (pack_id VARCHAR(200) NOT NULL, version VARCHAR(100) NOT NULL,
       digest VARCHAR(64) NOT NULL, files TEXT NOT NULL, title TEXT NOT NULL, publisher VARCHAR(200) NOT NULL,
       published_at VARCHAR(40) NOT NULL, signature TEXT, key_id VARCHAR(100), PRIMARY KEY (pack_id, version))""",
    """CREATE TABLE active_versions (pack_id VARCHAR(200) NOT NULL, version VARCHAR(100) NOT NULL,
       PRIMARY KEY (pack_id))""",
    """CREATE TABLE activations ({seq}, pack_id VARCHAR(200) NOT NULL, from_version VARCHAR(100),
       to_version VARCHAR(100) NOT NULL, kind VARCHAR(20) NOT NULL, actor VARCHAR(200) NOT NULL,
       at VARCHAR(40) NOT NULL, PRIMARY KEY (seq))""",
    "CREATE INDEX ix_activations_pack_id ON activations (pack_id)",
    """CREATE TABLE registry_state ("key" VARCHAR(50) NOT NULL, value INTEGER NOT NULL, PRIMARY KEY ("key"))""",
    """INSERT INTO pack_versions VALUES ('quality-district-funding', '1.0.0', 'aa', '{"pack.yaml": "a"}', '质量强区',
       'ops-old', '2024-05-01T00:00:00.000Z', NULL, NULL)""",
    """INSERT INTO pack_versions VALUES ('quality-district-funding', '1.1.0', 'bb', '{"pack.yaml": "b"}', '质量强区',
       'ops-old', '2024-06-01T00:00:00.000Z', NULL, NULL)""",
    "INSERT INTO active_versions VALUES ('quality-district-funding', '1.1.0')",
    """INSERT INTO activations (pack_id, from_version, to_version, kind, actor, at) VALUES
       ('quality-district-funding', NULL, '1.0.0', 'activate', 'ops-old', '2024-05-02T00:00:00.000Z'),
       ('quality-district-funding', '1.0.0', '1.1.0', 'activate', 'ops-old', '2024-06-02T00:00:00.000Z')""",
    "INSERT INTO registry_state VALUES ('generation', 4)",
]


def test_a_registry_made_before_migrations_is_taken_over_with_its_data(empty_url: str) -> None:
    engine = sa.create_engine(empty_url)  # plain SQLAlchemy, as an old version of the service would
    seq = "seq INTEGER NOT NULL" if engine.dialect.name == "sqlite" else "seq SERIAL NOT NULL"
    with engine.begin() as conn:
        for statement in OLD_REGISTRY:
            conn.exec_driver_sql(statement.replace("{seq}", seq))
    engine.dispose()

    registry = Registry(empty_url)
    try:
        assert registry.generation() == 4
        assert [(r.version, r.active, r.publisher) for r in registry.versions(PACK)] == [
            ("1.0.0", False, "ops-old"), ("1.1.0", True, "ops-old")]
        assert registry.bundle(PACK, "1.0.0").files == {"pack.yaml": "a"}
        assert registry.record_by_digest("bb").version == "1.1.0"
        assert registry.rollback(PACK, "ops-new").to_version == "1.0.0"  # the old history walks on
        assert [a.actor for a in registry.history(PACK)] == ["ops-old", "ops-old", "ops-new"]
        with registry.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            inspector = sa.inspect(conn)
            assert {"decisions", "shadow_runs", "shadow_samples"} <= set(inspector.get_table_names())
            assert "pack_versions_by_digest" in {i["name"] for i in inspector.get_indexes("pack_versions")}
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, schema.metadata) == []
    finally:
        registry.close()


ROUNDS = 3
PROCESSES = 4


def _migrate_rounds(urls: list[str], barrier, results) -> None:
    """In a child process: for each database, wait for the others, then migrate it."""
    for url in urls:
        engine = create_engine(url)
        try:
            barrier.wait(timeout=60)
            results.put((url, upgrade(engine)))
        except Exception:  # noqa: BLE001 - reported to the test, which fails on it
            results.put((url, traceback.format_exc()))
        finally:
            engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_four_processes_migrating_one_empty_database_at_once_all_succeed(backend: str, tmp_path: Path,
                                                                        request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        urls = [f"sqlite:///{tmp_path / f'round{n}.sqlite3'}" for n in range(ROUNDS)]
    else:
        server = request.getfixturevalue("postgres_server")
        urls = [server.create_database() for _ in range(ROUNDS)]
    fork = multiprocessing.get_context("fork")  # started at once, without re-importing everything
    barrier, results = fork.Barrier(PROCESSES), fork.Queue()
    children = [fork.Process(target=_migrate_rounds, args=(urls, barrier, results)) for _ in range(PROCESSES)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=120) for _ in range(PROCESSES * ROUNDS)]
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0
    for url in urls:
        done = [migrated for where, migrated in outcomes if where == url]
        failures = [text for text in done if isinstance(text, str)]
        assert failures == [], failures[0] if failures else ""
        assert sorted(done) == [False] * (PROCESSES - 1) + [True], "exactly one process migrates each database"
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert conn.execute(sa.text("SELECT value FROM registry_state")).scalars().all() == [0]
        engine.dispose()
