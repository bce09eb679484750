"""``featurebridge reindex`` and ``featurebridge similar-eval`` on a SQLite index with its
vectors and a stubbed bedrock-runtime client."""

from __future__ import annotations

import io
import json
from pathlib import Path

from botocore.stub import Stubber
from msgspec.structs import replace

from bridge.cli import main
from bridge.commands import CommandQueue
from bridge.embeddings.commands import run_reindex, run_similar_eval
from bridge.embeddings.s3vectors import S3Vectors
from bridge.runtime import Runtime
from tests.embedding_stub import expect_embedding, s3vectors_client, unit
from tests.test_embeddings_job import Parts, parts

__all__ = ["parts"]


def commanded(parts: Parts) -> Runtime:
    return replace(parts.runtime, queue=CommandQueue())


def test_reindex_embeds_every_request_and_retries_what_passes(parts: Parts) -> None:
    parts.seed(1, "Dark mode", "Easier on the eyes")
    parts.seed(2, "Export to PDF")
    expect_embedding(parts.stubber, unit(1, 0, 0))
    parts.stubber.add_client_error("invoke_model", "ThrottlingException", http_status_code=429)
    expect_embedding(parts.stubber, unit(0, 1, 0))
    out = io.StringIO()
    waits: list[float] = []
    code = run_reindex(
        parts.runtime.settings,
        app_id="mobile",
        dry_run=False,
        out=out,
        sleep=waits.append,
        runtime=commanded(parts),
    )
    assert code == 0, out.getvalue()
    assert out.getvalue().splitlines()[-1] == "mobile: 2 embedded"
    assert len(waits) == 1
    assert [n.number for n in parts.vectors.nearest("mobile", [0, 1, 0], limit=1)] == [2]


def test_reindex_dry_run_calls_no_model(parts: Parts) -> None:
    parts.seed(1, "Dark mode", "Easier on the eyes")
    out = io.StringIO()
    code = run_reindex(
        parts.runtime.settings, app_id="mobile", dry_run=True, out=out, runtime=commanded(parts)
    )
    assert code == 0
    assert "#1 Dark mode: would embed (up to 11 tokens)" in out.getvalue()
    assert out.getvalue().splitlines()[-1] == "mobile: 1 would embed (dry run)"
    assert parts.vectors.nearest("mobile", [1, 0, 0], limit=1) == []


def test_reindex_says_an_index_of_another_size_needs_a_new_one(parts: Parts) -> None:
    client = s3vectors_client()
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_index",
            {
                "index": {
                    "vectorBucketName": "vectors",
                    "indexName": "requests-256",
                    "indexArn": (
                        "arn:aws:s3vectors:us-east-1:123456789012:bucket/vectors/index/requests-256"
                    ),
                    "creationTime": "2026-01-01T00:00:00Z",
                    "dataType": "float32",
                    "dimension": 256,
                    "distanceMetric": "cosine",
                }
            },
        )
        runtime = replace(
            commanded(parts), vectors=S3Vectors("vectors", "requests-256", lambda: client)
        )
        out = io.StringIO()
        code = run_reindex(
            parts.runtime.settings, app_id="mobile", dry_run=True, out=out, runtime=runtime
        )
    assert code == 1
    assert "not embedding_dimensions = 3" in out.getvalue()
    assert "create a new index" in out.getvalue()


def test_similar_eval_prints_recall_of_both_and_the_tokens(parts: Parts, tmp_path: Path) -> None:
    parts.seed(1, "Dark mode", "A dark theme")
    parts.seed(2, "Export to PDF")
    parts.seed(3, "Night mode for reading")
    for number, vector in ((1, unit(1, 0, 0)), (2, unit(0, 0, 1)), (3, unit(0, 1, 0))):
        parts.vectors.put("mobile", number, vector)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        json.dumps({"title": "Low light theme", "original": 3})
        + "\n"
        + json.dumps({"title": "Save as PDF", "description": "for my boss", "original": 2})
        + "\n",
        encoding="utf-8",
    )
    # "Low light theme" shares no word with #3 but its vector points there.
    expect_embedding(parts.stubber, unit(0, 1, 0), tokens=5)
    expect_embedding(parts.stubber, unit(0, 0, 1), tokens=7)
    out = io.StringIO()
    code = run_similar_eval(
        parts.runtime.settings, app_id="mobile", pairs_path=pairs, out=out, runtime=parts.runtime
    )
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[1:] == [
        "recall@5 lexical: 0.500",
        "recall@5 fused:   1.000 (+0.500)",
        "embedding the drafts with amazon.titan-embed-text-v2:0@3: 12 tokens (2 of 2 embedded)",
    ]


def test_the_commands_refuse_unknown_apps_bad_pairs_and_embeddings_off(
    tmp_path: Path,
    monkeypatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    config = tmp_path / "featurebridge.toml"
    config.write_text(
        '[[apps]]\nid = "demo"\nname = "Demo"\nrepo = "acme/demo"\nlabels = ["fr"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("FEATUREBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("FEATUREBRIDGE_STORE", f"sqlite:///{tmp_path / 'index.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["reindex", "--app", "nope"]) == 2
    assert main(["reindex", "--app", "demo"]) == 1
    assert "embeddings are off" in capsys.readouterr().out
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("not json\n", encoding="utf-8")
    assert main(["similar-eval", "--app", "demo", "--pairs", str(pairs)]) == 2
    assert "pairs.jsonl:1" in capsys.readouterr().err
    pairs.write_text('{"title": "Dark mode", "original": 1}\n', encoding="utf-8")
    assert main(["similar-eval", "--app", "demo", "--pairs", str(pairs)]) == 1
    assert "embedding_model_id" in capsys.readouterr().out


def test_doctor_reaches_the_model_and_the_index(parts: Parts) -> None:
    from bridge.doctor import embeddings_finding

    settings, embedder = parts.runtime.settings, parts.runtime.embedder
    expect_embedding(parts.stubber, unit(1, 0, 0))
    parts.stubber.add_client_error("invoke_model", "AccessDeniedException", http_status_code=403)
    ok = embeddings_finding(settings, embedder, parts.vectors)
    assert ok.ok
    assert ok.detail == "amazon.titan-embed-text-v2:0@3 answers; its vectors can be kept"
    denied = embeddings_finding(settings, embedder, parts.vectors)
    assert not denied.ok
    assert "AccessDeniedException" in denied.detail
    assert not embeddings_finding(settings, embedder, None).ok
    assert embeddings_finding(settings, None, None).ok
