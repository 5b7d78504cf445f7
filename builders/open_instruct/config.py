"""YAML `source:` section for instruction data."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from wiki_qa.configbase import StrictModel

# Stanford Alpaca's templates (tatsu-lab/stanford_alpaca train.py), also what open-instruct's alpaca_prompt holds.
ALPACA_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:"
)


class OpenInstructConfig(StrictModel):
    type: Literal["open_instruct"] = "open_instruct"
    # Local jsonl/json/parquet/csv file, folder, or fsspec glob; or a Hub dataset id such as VMware/open-instruct.
    path: str
    format: Literal["auto", "jsonl", "json", "parquet", "csv"] = "auto"
    # Which columns mean what. auto picks the first preset whose columns are all present:
    #   open_instruct: prompt=alpaca_prompt, completion=response (keeps source, task_name, template_type)
    #   alpaca:        instruction, input, completion=output, through the Alpaca template
    #   dolly:         instruction, input=context, completion=response, through the Alpaca template
    #   prompt_answer: prompt, completion=answer (also prompt/completion and prompt/response pairs)
    preset: Literal["auto", "open_instruct", "alpaca", "dolly", "prompt_answer"] = "auto"
    # Overrides on top of the preset, role -> column: {prompt: question, completion: best_answer}.
    # Roles: prompt, completion, instruction, input. `instruction` (+ `input`) go through the template.
    fields: dict[Literal["prompt", "completion", "instruction", "input"], str] = Field(default_factory=dict)
    template: str = ALPACA_INPUT  # with {instruction} and {input}
    template_no_input: str = ALPACA_NO_INPUT  # used when the input column is empty
    # Rows from a file named like *test* or with this column equal to "test" keep split=test;
    # everything else is split by the shared seeded hash splitter.
    split_column: str = "split"
    name: str | None = None  # label in the `source` column; default: file/dataset name
    lang: str | None = "en"
