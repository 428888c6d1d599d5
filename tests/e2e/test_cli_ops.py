"""The real `jixiao` command shipping pack versions: readying a pack (validate, keygen,
sign), tokens, publish / versions / activate / rollback / history on a registry file and
through a TLS server with tokens, and reviewing a version (diff, rescore).

Every check is what ops see: stdout, the single stderr line and the exit status.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from jixiao.api.tokens import hash_token
from jixiao.packs import read_bundle

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PACK_ID = "quality-district-funding"
PACK_1_0_0 = REPO / "rules" / PACK_ID / "1.0.0"
PACK_1_1_0 = REPO / "rules" / PACK_ID / "1.1.0"
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def run_cli(*args: str | Path, stdin: str | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    """`jixiao ARGS` in a fresh process, with none of the caller's JIXIAO_* settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("JIXIAO_") and k != "COLUMNS"} | extra_env
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *map(str, args)], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def succeeded(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess, exit_code: int) -> str:
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def table_rows(stdout: str) -> list[list[str]]:
    """The body rows of the rich tables in `stdout`, as lists of stripped cells."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in stdout.splitlines() if line.startswith("│")]


def copy_pack(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination)
    return destination


def append_line(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two key pairs made by `jixiao pack keygen`: the trusted one and another."""
    folder = tmp_path_factory.mktemp("keys")
    made = {}
    for name in ("trusted", "other"):
        succeeded(run_cli("pack", "keygen", "--out", folder / name))
        made[name] = folder / name
    return made


@pytest.fixture
def facts_2019(tmp_path: Path, golden_2019_facts: dict) -> Path:
    """The 2019 report's facts (the `facts` of 1.0.0's cases/2019.yaml) as a JSON file."""
    path = tmp_path / "facts-2019.json"
    path.write_text(json.dumps(golden_2019_facts, ensure_ascii=False), encoding="utf-8")
    return path


# --- readying a pack: validate, keygen, sign ---------------------------------------------


def test_validate_prints_ok_with_id_version_and_the_registry_digest() -> None:
    out = succeeded(run_cli("pack", "validate", PACK_1_0_0))
    assert f"OK {PACK_ID}@1.0.0  sha256 {read_bundle(PACK_1_0_0).digest}" in out
    assert "unsigned" in out


def test_validate_lists_every_problem_with_file_line_and_path_and_exits_2(tmp_path) -> None:
    broken = copy_pack(PACK_1_0_0, tmp_path / "broken")
    pack_yaml = broken / "pack.yaml"
    text = pack_yaml.read_text(encoding="utf-8")
    pack_yaml.write_text(text.replace("total_weight: 100", "total_weight: lots")
                         .replace("weight: 16", "weight: sixteen", 1), encoding="utf-8")

    result = run_cli("pack", "validate", broken)

    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"invalid pack: 2 problems in {broken}"
    problems = [row.strip() for row in result.stderr.splitlines() if "pack.yaml:" in row]
    assert len(problems) == 2
    assert any(re.match(rf"{re.escape(str(pack_yaml))}:\d+ at total_weight: ", p) for p in problems)
    assert any(re.match(rf"{re.escape(str(pack_yaml))}:\d+ at indicators\[0\]\.weight: ", p) for p in problems)


def test_keygen_writes_an_owner_only_private_key_and_a_public_key_and_prints_the_key_id(tmp_path) -> None:
    out = succeeded(run_cli("pack", "keygen", "--out", tmp_path / "ops"))

    assert re.match(r"key id [0-9a-f]{16}\n", out)
    private, public = tmp_path / "ops.key", tmp_path / "ops.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_keygen_never_overwrites_a_key(tmp_path) -> None:
    succeeded(run_cli("pack", "keygen", "--out", tmp_path / "ops"))
    before = (tmp_path / "ops.key").read_bytes()

    line = one_line_error(run_cli("pack", "keygen", "--out", tmp_path / "ops"), 2)

    assert "ops.key already exists" in line
    assert (tmp_path / "ops.key").read_bytes() == before


def test_sign_writes_signature_json_that_validate_accepts_until_the_pack_changes(tmp_path, keys) -> None:
    folder = copy_pack(PACK_1_1_0, tmp_path / "1.1.0")
    key_id = succeeded(run_cli("pack", "keygen", "--out", tmp_path / "k")).split()[2]

    signed = succeeded(run_cli("pack", "sign", folder, "--key", tmp_path / "k.key"))

    digest = read_bundle(folder).digest
    assert f"signed {PACK_ID}@1.1.0  key {key_id}  sha256 {digest}" in signed
    document = json.loads((folder / "signature.json").read_text(encoding="utf-8"))
    assert (document["key_id"], document["digest"], document["version"]) == (key_id, digest, "1.1.0")
    assert f"signed by key {key_id} (digest matches)" in succeeded(run_cli("pack", "validate", folder))
    append_line(folder / "pack.yaml", "# edited after signing")
    assert "changed after signing" in succeeded(run_cli("pack", "validate", folder))


def test_publish_validate_and_sign_refuse_links_out_of_the_pack_folder_naming_the_file(tmp_path) -> None:
    folder = copy_pack(PACK_1_1_0, tmp_path / "1.1.0")
    (folder / "cases" / "passwd.yaml").symlink_to("/etc/passwd")
    registry = tmp_path / "registry.sqlite3"

    for command, exit_code in ((("pack", "publish", folder, "--registry", registry), 2),
                               (("pack", "validate", folder), 2), (("pack", "test", folder), 2)):
        result = run_cli(*command)
        said = result.stdout + result.stderr
        assert result.returncode == exit_code and "Traceback" not in said, said
        assert "cases/passwd.yaml" in said and "a symbolic link to /etc/passwd, outside the pack folder" in said
        assert "root:" not in said
    assert not registry.exists() or "1.1.0" not in run_cli("pack", "versions", PACK_ID, "--registry", registry).stdout

    (folder / "cases" / "passwd.yaml").unlink()
    target = tmp_path / "elsewhere.json"
    target.write_text("keep me\n", encoding="utf-8")
    (folder / "signature.json").symlink_to(target)
    succeeded(run_cli("pack", "keygen", "--out", tmp_path / "k"))
    for command in (("pack", "sign", folder, "--key", tmp_path / "k.key"),
                    ("pack", "publish", folder, "--registry", registry)):
        line = one_line_error(run_cli(*command), 2)
        assert "signature.json is a symbolic link" in line and "outside the pack folder" in line, line
    assert target.read_text(encoding="utf-8") == "keep me\n"


def test_sign_with_a_file_that_is_not_a_key_exits_2(tmp_path) -> None:
    not_a_key = tmp_path / "notes.key"
    not_a_key.write_text("hello", encoding="utf-8")
    line = one_line_error(run_cli("pack", "sign", PACK_1_0_0, "--key", not_a_key), 2)
    assert "notes.key" in line and "private key" in line


# --- tokens ------------------------------------------------------------------------------


def test_token_hash_reads_the_token_from_stdin_and_prints_its_sha256_line() -> None:
    out = succeeded(run_cli("token", "hash", stdin="s3cret-token\n"))
    assert out == f"sha256: {hash_token('s3cret-token')}\n"


def test_token_new_prints_a_fresh_token_and_its_hash() -> None:
    first, second = (succeeded(run_cli("token", "new")) for _ in range(2))
    token = re.search(r"^token: (\S+)$", first, re.M)[1]
    assert len(token) >= 43
    assert f"sha256: {hash_token(token)}" in first
    assert token not in second


def test_token_hash_of_nothing_exits_2() -> None:
    assert "no token" in one_line_error(run_cli("token", "hash", stdin=""), 2)


# --- a registry file, without a server ---------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry file holding 1.0.0 and 1.1.0, published by ops-bob, none active yet.

    Only the ops story changes which version is active; every other test here is refused
    or repeats a publish, which leaves the registry as it was.
    """
    path = tmp_path_factory.mktemp("registry") / "registry.sqlite3"
    for folder in (PACK_1_0_0, PACK_1_1_0):
        succeeded(run_cli("pack", "publish", folder, "--registry", path, "--as", "ops-bob"))
    return path


def test_publish_prints_the_version_created_its_digest_and_publisher(tmp_path) -> None:
    path = tmp_path / "registry.sqlite3"

    out = succeeded(run_cli("pack", "publish", PACK_1_0_0, "--registry", path, "--as", "ops-bob"))

    assert f"published {PACK_ID}@1.0.0  sha256 {read_bundle(PACK_1_0_0).digest}  by ops-bob  unsigned" in out
    assert f"jixiao pack activate {PACK_ID} 1.0.0" in out


def test_ops_story_on_a_registry_file_activate_rollback_versions_history(registry) -> None:
    on_registry = ("--registry", registry, "--as", "ops-carol")

    assert "activated quality-district-funding@1.0.0  by ops-carol" in \
        succeeded(run_cli("pack", "activate", PACK_ID, "1.0.0", *on_registry))
    assert "activated quality-district-funding@1.1.0 (was 1.0.0)" in \
        succeeded(run_cli("pack", "activate", PACK_ID, "1.1.0", *on_registry))
    assert "unchanged" in succeeded(run_cli("pack", "activate", PACK_ID, "1.1.0", *on_registry))
    assert "rolled back to quality-district-funding@1.0.0 (was 1.1.0)" in \
        succeeded(run_cli("pack", "rollback", PACK_ID, *on_registry))

    versions = table_rows(succeeded(run_cli("pack", "versions", PACK_ID, "--registry", registry)))
    assert [(row[0], row[1], row[2], row[4], row[5]) for row in versions] == [
        ("1.0.0", read_bundle(PACK_1_0_0).digest[:12], "ops-bob", "—", "✓"),
        ("1.1.0", read_bundle(PACK_1_1_0).digest[:12], "ops-bob", "—", ""),
    ]
    history = table_rows(succeeded(run_cli("pack", "history", PACK_ID, "--registry", registry)))
    assert [row[1:] for row in history] == [
        ["activate", "— → 1.0.0", "ops-carol"],
        ["activate", "1.0.0 → 1.1.0", "ops-carol"],
        ["rollback", "1.1.0 → 1.0.0", "ops-carol"],
    ]
    listed = json.loads(succeeded(run_cli("pack", "versions", PACK_ID, "--registry", registry,
                                          "--format", "json")))
    assert [(v["version"], v["active"]) for v in listed["versions"]] == [("1.0.0", True), ("1.1.0", False)]


def test_rolling_back_past_the_first_activation_is_refused_exit_1(tmp_path) -> None:
    path = tmp_path / "registry.sqlite3"
    succeeded(run_cli("pack", "publish", PACK_1_0_0, "--registry", path))
    succeeded(run_cli("pack", "activate", PACK_ID, "1.0.0", "--registry", path))
    line = one_line_error(run_cli("pack", "rollback", PACK_ID, "--registry", path), 1)
    assert "nothing to roll back to" in line


def test_republishing_the_same_files_is_unchanged(registry) -> None:
    out = succeeded(run_cli("pack", "publish", PACK_1_0_0, "--registry", registry))
    assert out.startswith(f"unchanged: {PACK_ID}@1.0.0 is already published with these files")


def test_a_pack_whose_golden_cases_fail_is_refused_exit_1_showing_each_node_expected_and_actual(
        registry, make_pack_version) -> None:
    broken = make_pack_version("1.0.9", failing_cases=True)

    result = run_cli("pack", "publish", broken, "--registry", registry)

    line = one_line_error(result, 1)
    assert line.startswith(f"publish refused: {PACK_ID}@1.0.9 refused by the publish gate")
    assert {tuple(row) for row in table_rows(result.stdout)} == {
        ("cases/2019.yaml", "total", "score", "76.00", "75.03"),
        ("cases/2019.yaml", "process", "score", "12", "11.89"),
        ("cases/all-pass.yaml", "total", "score", "99", "100"),
    }
    versions = json.loads(succeeded(run_cli("pack", "versions", PACK_ID, "--registry", registry,
                                            "--format", "json")))
    assert "1.0.9" not in [v["version"] for v in versions["versions"]]


def test_republishing_a_version_with_changed_files_is_refused_naming_both_digests(registry, tmp_path) -> None:
    changed = copy_pack(PACK_1_0_0, tmp_path / "1.0.0")
    append_line(changed / "pack.yaml", "# edited")

    line = one_line_error(run_cli("pack", "publish", changed, "--registry", registry), 1)

    assert line.startswith("publish refused, version already published: ")
    assert read_bundle(PACK_1_0_0).digest in line and read_bundle(changed).digest in line


@pytest.fixture
def version_1_2_0(tmp_path) -> Path:
    """1.1.0's rules as 1.2.0, unsigned."""
    folder = copy_pack(PACK_1_1_0, tmp_path / "1.2.0")
    pack_yaml = folder / "pack.yaml"
    pack_yaml.write_text(re.sub(r"(?m)^version: .*$", "version: 1.2.0", pack_yaml.read_text(encoding="utf-8"),
                                count=1), encoding="utf-8")
    return folder


def publish_requiring_signatures(folder: Path, registry: Path, keys: dict[str, Path]) -> subprocess.CompletedProcess:
    return run_cli("pack", "publish", folder, "--registry", registry, "--require-signatures",
                   "--trusted-key", f"{keys['trusted']}.pub")


def test_an_unsigned_pack_is_refused_when_signatures_are_required(registry, keys, version_1_2_0) -> None:
    line = one_line_error(publish_requiring_signatures(version_1_2_0, registry, keys), 1)
    assert line.startswith("publish refused, the pack is not signed: ")


def test_a_pack_signed_by_an_unknown_key_is_refused(registry, keys, version_1_2_0) -> None:
    succeeded(run_cli("pack", "sign", version_1_2_0, "--key", f"{keys['other']}.key"))
    line = one_line_error(publish_requiring_signatures(version_1_2_0, registry, keys), 1)
    assert line.startswith("publish refused, the signing key is not trusted: ")


def test_a_pack_changed_after_signing_is_refused(registry, keys, version_1_2_0) -> None:
    succeeded(run_cli("pack", "sign", version_1_2_0, "--key", f"{keys['trusted']}.key"))
    append_line(version_1_2_0 / "cases" / "2019.yaml", "# tampered")
    line = one_line_error(publish_requiring_signatures(version_1_2_0, registry, keys), 1)
    assert line.startswith("publish refused, the pack was changed after signing: ")


def test_requiring_signatures_without_a_trusted_key_is_a_usage_error(registry, version_1_2_0) -> None:
    result = run_cli("pack", "publish", version_1_2_0, "--registry", registry, "--require-signatures")
    assert "--trusted-key" in one_line_error(result, 2)


def test_a_pack_signed_by_the_trusted_key_is_published_naming_the_key(tmp_path, keys, version_1_2_0) -> None:
    signed = succeeded(run_cli("pack", "sign", version_1_2_0, "--key", f"{keys['trusted']}.key"))
    key_id = signed.split("  key ")[1].split()[0]
    out = succeeded(publish_requiring_signatures(version_1_2_0, tmp_path / "registry.sqlite3", keys))
    assert f"signed by key {key_id}" in out


def test_server_and_registry_together_is_a_usage_error_on_one_line(registry) -> None:
    result = run_cli("pack", "versions", PACK_ID, "--registry", registry, "--server", "127.0.0.1:1")
    assert "--server" in one_line_error(result, 2)


def test_a_missing_registry_file_exits_2(tmp_path) -> None:
    result = run_cli("pack", "versions", PACK_ID, "--registry", tmp_path / "nowhere.sqlite3")
    assert "no registry" in one_line_error(result, 2)


# --- reviewing a version: diff and rescore -------------------------------------------------


def test_diff_of_the_bundled_folders_lists_the_weight_changes_and_the_award_amount_rule() -> None:
    out = succeeded(run_cli("pack", "diff", PACK_1_0_0, PACK_1_1_0))

    assert out.splitlines()[0].startswith(f"{PACK_ID}@1.0.0 → {PACK_ID}@1.1.0: ")
    rows = table_rows(out)
    weights = {(row[1], row[3], row[4]) for row in rows if row[0] == "weight_changed"}
    assert weights == {("decision.initiation", "5", "4"), ("decision.initiation.basis", "3", "2"),
                       ("decision.targets", "5", "6"), ("decision.targets.clarity", "3", "4")}
    award = next(row for row in rows if row[0] == "rule_changed" and row[2] == "check award_amount")
    assert award[1] == "output.cost.rewards"
    assert award[3] == "deduct 2 if rewards.award_amount != rewards.award_standard"
    assert award[4] == "deduct 2 if rewards.award_amount < rewards.award_standard"


def test_diff_of_two_published_versions_from_the_registry_as_json(registry) -> None:
    out = succeeded(run_cli("pack", "diff", PACK_ID, "1.0.0", "1.1.0", "--registry", registry,
                            "--format", "json"))
    document = json.loads(out)
    assert (document["old"], document["new"]) == (f"{PACK_ID}@1.0.0", f"{PACK_ID}@1.1.0")
    assert {"kind": "weight_changed", "subject": "decision.targets.clarity", "detail": "weight",
            "old": "3", "new": "4"} in document["changes"]


def test_diff_of_a_version_with_itself_says_no_changes() -> None:
    out = succeeded(run_cli("pack", "diff", PACK_ID, "1.0.0", "1.0.0", "--local", "--lang", "en"))
    assert out.strip() == f"{PACK_ID}@1.0.0 → {PACK_ID}@1.0.0: no changes"
    out = succeeded(run_cli("pack", "diff", PACK_ID, "1.0.0", "1.0.0", "--local"))
    assert out.strip() == f"{PACK_ID}@1.0.0 → {PACK_ID}@1.0.0: 没有变化"


def test_diff_of_versions_without_a_registry_or_folder_says_where_to_look() -> None:
    line = one_line_error(run_cli("pack", "diff", PACK_ID, "1.0.0", "1.1.0"), 2)
    assert "--registry" in line and "DIR1 DIR2" in line


def test_rescore_of_the_2019_facts_shows_75_03_under_1_0_0_and_74_03_under_1_1_0(facts_2019) -> None:
    out = succeeded(run_cli("rescore", facts_2019, "--pack", PACK_ID, "--versions", "1.0.0,1.1.0", "--local"))

    rows = {row[1]: row for row in table_rows(out) if len(row) == 7}
    assert rows["decision.initiation.basis"][2:] == ["3", "3", "2", "2", "-1"]
    assert rows["process.funds.execution"][2:] == ["3", "2.39", "3", "2.39", "0"]
    total = next(row for row in table_rows(out) if row[0] == "合计")
    assert total[2:] == ["100", "75.03", "100", "74.03", "-1"]
    rate = next(row for row in table_rows(out) if row[0] == "得分率")
    assert rate[3] == "75.03%" and rate[5] == "74.03%"
    grade = next(row for row in table_rows(out) if row[0] == "等级")
    assert grade[3] == "中" and grade[5] == "中"


def test_rescore_json_from_a_registry_evaluates_pinned_versions_that_are_not_active(tmp_path, facts_2019) -> None:
    path = tmp_path / "registry.sqlite3"
    for folder in (PACK_1_0_0, PACK_1_1_0):
        succeeded(run_cli("pack", "publish", folder, "--registry", path))

    out = succeeded(run_cli("rescore", facts_2019, "--pack", PACK_ID, "--versions", "1.0.0,1.1.0",
                            "--registry", path, "--format", "json"))

    document = json.loads(out)
    assert (document["old"]["score"], document["new"]["score"], document["delta"]) == ("75.03", "74.03", "-1")
    assert document["old"]["digest"] == read_bundle(PACK_1_0_0).digest
    changed = {node["id"] for node in document["indicators"] if node["changed"]}
    assert changed == {"decision", "decision.initiation", "decision.initiation.basis",
                       "decision.targets", "decision.targets.clarity"}


def test_rescore_needs_two_versions(facts_2019) -> None:
    result = run_cli("rescore", facts_2019, "--pack", PACK_ID, "--versions", "1.0.0", "--local")
    assert "V1,V2" in one_line_error(result, 2)


# --- through a real server, over TLS, with tokens -----------------------------------------


@pytest.fixture(scope="module")
def server(launch_server, auth_config, tls_certificate):
    """A TLS server with tokens, its registry seeded from rules/ (1.1.1, the newest, active)."""
    running = launch_server("cli-ops", tls=tls_certificate, args=["--auth-config", str(auth_config.path)])
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture(scope="module")
def on_server(server, tls_certificate) -> tuple[str, ...]:
    return ("--server", server.address, "--tls-ca", str(tls_certificate.cert))


def test_ops_story_through_a_tls_server_with_a_deploy_token(on_server, auth_config, make_pack_version,
                                                             facts_2019) -> None:
    folder = make_pack_version("1.0.7")
    deploy = {"JIXIAO_TOKEN": auth_config.deploy_token}

    published = succeeded(run_cli("pack", "publish", folder, *on_server, **deploy))
    assert f"published {PACK_ID}@1.0.7  sha256 {read_bundle(folder).digest}  by ops-alice" in published
    assert "unchanged" in succeeded(run_cli("pack", "publish", folder, *on_server, **deploy))
    assert "activated quality-district-funding@1.0.7 (was 1.1.1)  by ops-alice" in \
        succeeded(run_cli("pack", "activate", PACK_ID, "1.0.7", *on_server, **deploy))
    scored = json.loads(succeeded(run_cli("score", facts_2019, "--pack", PACK_ID, *on_server, "--format", "json")))
    assert (scored["version"], scored["digest"], scored["score"]) == ("1.0.7", read_bundle(folder).digest, "75.03")
    assert "rolled back to quality-district-funding@1.1.1 (was 1.0.7)" in \
        succeeded(run_cli("pack", "rollback", PACK_ID, *on_server, "--token", auth_config.deploy_token))

    versions = table_rows(succeeded(run_cli("pack", "versions", PACK_ID, *on_server, **deploy)))
    assert [(row[0], row[2], row[5]) for row in versions] == [
        ("1.0.0", "bootstrap", ""), ("1.0.1", "bootstrap", ""), ("1.1.0", "bootstrap", ""),
        ("1.1.1", "bootstrap", "✓"), ("1.0.7", "ops-alice", "")]
    history = json.loads(succeeded(run_cli("pack", "history", PACK_ID, *on_server, "--format", "json", **deploy)))
    assert [(a["fromVersion"], a["toVersion"], a["kind"], a["actor"]) for a in history["activations"]][-2:] == [
        ("1.1.1", "1.0.7", "activate", "ops-alice"), ("1.0.7", "1.1.1", "rollback", "ops-alice")]


def test_a_failing_pack_published_through_the_server_shows_each_node_and_exits_1(
        on_server, auth_config, make_pack_version) -> None:
    broken = make_pack_version("1.0.8", failing_cases=True)

    result = run_cli("pack", "publish", broken, *on_server, "--token", auth_config.deploy_token)

    assert "refused by the publish gate" in one_line_error(result, 1)
    assert ("cases/2019.yaml", "process", "score", "12", "11.89") in {tuple(r) for r in table_rows(result.stdout)}


def test_republishing_with_changed_files_through_the_server_names_both_digests(
        on_server, auth_config, tmp_path) -> None:
    changed = copy_pack(PACK_1_0_0, tmp_path / "1.0.0")
    append_line(changed / "pack.yaml", "# edited")
    line = one_line_error(run_cli("pack", "publish", changed, *on_server, "--token", auth_config.deploy_token), 1)
    assert read_bundle(PACK_1_0_0).digest in line and read_bundle(changed).digest in line


def test_rescore_through_the_server_pins_1_0_0_and_1_1_0_while_1_1_1_is_active(on_server, facts_2019) -> None:
    out = succeeded(run_cli("rescore", facts_2019, "--pack", PACK_ID, "--versions", "1.0.0,1.1.0",
                            *on_server, "--format", "json"))
    document = json.loads(out)
    assert (document["old"]["score"], document["new"]["score"]) == ("75.03", "74.03")


def test_an_admin_command_without_a_token_exits_4_with_one_line(on_server) -> None:
    line = one_line_error(run_cli("pack", "rollback", PACK_ID, *on_server), 4)
    assert line.startswith("not authenticated: ") and "--token" in line
    assert "`jixiao pack rollback` on a server needs a token with the deploy role" in line


def test_reading_versions_and_history_needs_no_token_where_evaluating_needs_none(on_server) -> None:
    assert "1.0.0" in succeeded(run_cli("pack", "versions", PACK_ID, *on_server))
    succeeded(run_cli("pack", "history", PACK_ID, *on_server))


def test_an_admin_command_with_an_evaluate_only_token_exits_4_with_one_line(on_server, auth_config) -> None:
    result = run_cli("pack", "activate", PACK_ID, "1.0.0", *on_server, JIXIAO_TOKEN=auth_config.evaluate_token)
    line = one_line_error(result, 4)
    assert line.startswith("permission denied: ") and "portal" in line and "deploy" in line


def test_help_documents_exit_status_4() -> None:
    assert "4  not allowed: no token, an unknown token" in succeeded(run_cli("--help"))
