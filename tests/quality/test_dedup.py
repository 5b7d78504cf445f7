import random

from datasets import Dataset, DatasetDict

from wiki_qa.quality import dedup
from wiki_qa.quality.config import DedupConfig

LONG = ("The Niger River is the main river of West Africa, extending about four thousand one hundred and eighty "
        "kilometres. Its drainage basin is two million square kilometres in area. Its source is in the Guinea "
        "Highlands in south eastern Guinea near the Sierra Leone border. It runs in a crescent shape through "
        "Mali, Niger, on the border with Benin and then through Nigeria, discharging through a massive delta.")
OTHER = ("Lake Chad is a historically large, shallow, endorheic lake in Central Africa, which has varied in size "
         "over the centuries. According to the Global Resource Information Database of the United Nations "
         "Environment Programme, it shrank by as much as ninety five percent from about 1963 to 1998.")


def chunks(ids, texts):
    return Dataset.from_dict({"id": ids, "text": texts})


def on():
    return DedupConfig(enabled=True)


def test_exact_duplicates_after_normalization_keep_train_copy():
    dsd = DatasetDict({
        # test comes first in the dict on purpose: the train copy must win regardless of dict order
        "test": chunks(["t1", "t2"], ["  the NIGER river is the MAIN river of west africa!! ", OTHER]),
        "train": chunks(["a1", "a2"], ["The Niger river is the main river of West Africa.", "Something else."]),
    })
    out, st = dedup(dsd, on())
    assert list(out["train"]["id"]) == ["a1", "a2"]
    assert list(out["test"]["id"]) == ["t2"]
    assert list(out) == ["test", "train"]            # caller's split order kept
    assert st["exact"] == 1 and st["near"] == 0
    assert st["by_split"]["test"] == {"before": 2, "exact": 1, "near": 0, "after": 1}
    assert st["examples"] == [{"removed": "t1", "split": "test", "kept": "a1", "kind": "exact"}]


def test_near_duplicate_across_splits_dropped_distinct_kept():
    near = LONG.replace("massive delta", "huge delta").replace("crescent shape", "crescent")
    dsd = DatasetDict({
        "train": chunks(["a"], [LONG]),
        "val": chunks(["v1", "v2"], [near, OTHER]),
    })
    out, st = dedup(dsd, on())
    assert list(out["val"]["id"]) == ["v2"]
    assert st["near"] == 1 and st["exact"] == 0
    # A stricter threshold than the pair's similarity keeps both: the threshold is really used.
    out2, st2 = dedup(dsd, DedupConfig(enabled=True, threshold=0.99))
    assert list(out2["val"]["id"]) == ["v1", "v2"] and st2["near"] == 0


def test_within_split_duplicates_keep_first_and_disabled_is_noop():
    dsd = DatasetDict({"train": chunks(["a", "b", "c"], [OTHER, LONG, OTHER])})
    out, _ = dedup(dsd, on())
    assert list(out["train"]["id"]) == ["a", "b"]
    same, st = dedup(dsd, DedupConfig(enabled=False))
    assert same is dsd and st["skipped"]


def test_exact_only_and_diacritics_are_not_folded():
    # Yoruba tone marks tell words apart: ọkọ (husband/vehicle) vs ọkọ́ (hoe); they must not be merged.
    dsd = DatasetDict({"train": chunks(["a", "b", "c"], ["Ọkọ náà dára", "Ọkọ́ náà dára", "ỌKỌ NÁÀ DÁRA!"])})
    out, st = dedup(dsd, DedupConfig(enabled=True, near=False))
    assert list(out["train"]["id"]) == ["a", "b"]
    assert st["exact"] == 1


def test_prompt_column_and_messages_column():
    rows = {"id": ["q1", "q2", "q3"], "prompt": ["What is the capital of Nigeria?",
                                                "what is the capital of nigeria", "Who wrote Things Fall Apart?"],
            "completion": ["Abuja", "Abuja.", "Achebe"]}
    out, st = dedup(DatasetDict({"train": Dataset.from_dict(rows)}), on(), column="prompt")
    assert list(out["train"]["id"]) == ["q1", "q3"] and st["column"] == "prompt"
    msgs = [[{"role": "user", "content": p}, {"role": "assistant", "content": c}]
            for p, c in zip(rows["prompt"], ["Abuja", "Abuja", "Achebe"])]
    out, _ = dedup(DatasetDict({"train": Dataset.from_dict({"id": rows["id"], "messages": msgs})}), on(),
                   column="messages")
    assert list(out["train"]["id"]) == ["q1", "q3"]


def test_scales_to_thousands_of_rows_with_planted_near_dups():
    rnd = random.Random(7)
    vocab = [f"w{i}" for i in range(3000)]
    texts = [" ".join(rnd.choices(vocab, k=120)) for _ in range(3000)]
    planted = []
    for i in range(0, 3000, 300):  # 10 near copies: 2 words of 120 swapped
        w = texts[i].split()
        w[5], w[60] = "zz1", "zz2"
        planted.append(" ".join(w))
    dsd = DatasetDict({"train": chunks([f"a{i}" for i in range(3000)], texts),
                       "test": chunks([f"t{i}" for i in range(10)], planted)})
    out, st = dedup(dsd, on())
    assert len(out["train"]) == 3000 and len(out["test"]) == 0
    assert st["near"] == 10
