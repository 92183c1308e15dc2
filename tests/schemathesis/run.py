"""Runs the schemathesis CLI with one work-around for the interpreter.

Hypothesis names the lambdas in its strategies by parsing their source file. On CPython 3.11 (this machine's), parsing
a large file deep in the call stack can raise "SystemError: AST constructor recursion depth mismatch" (CPython bug
gh-106905), which schemathesis reports as an error of the run although nothing was tested wrongly. The name is only
for display, so where parsing fails the lambda is called "lambda: <unknown>", as hypothesis itself does when it
cannot find the source.
"""

import sys

import hypothesis.internal.lambda_sources as lambda_sources

_describe = lambda_sources._lambda_description


def _describe_or_unknown(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _describe_or_unknown

from schemathesis.cli import schemathesis  # noqa: E402 (after the patch, so every import sees it)

sys.exit(schemathesis())
