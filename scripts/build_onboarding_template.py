#!/usr/bin/env python3
"""Write the customer onboarding CloudFormation template from the CDK customer stack.

Usage (from the repository root)::

    .venv/bin/python scripts/build_onboarding_template.py           # (re)write the template
    .venv/bin/python scripts/build_onboarding_template.py --check   # exit 1 if it is stale

Output: ``docs/onboarding/dd0c-cost-customer.template.json`` (checked in; publish it to an S3
bucket for the console quick-create links, see docs/deploy.md). It is synthesised from
``cdk/dd0c_cost_cdk/customer_stack.py`` with cdk-nag (AwsSolutions) as a validation plugin; its
rule pattern comes from the event catalogue, so regenerate it whenever the catalogue changes
(tests/infrastructure/test_onboarding_template.py fails until you do).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "cdk", ROOT / "layers" / "shared" / "python"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
os.environ.setdefault("JSII_DEPRECATED", "quiet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the checked-in template; change nothing")
    parser.add_argument("--out", type=Path, default=None, help="write here instead of docs/onboarding/")
    args = parser.parse_args(argv)

    from dd0c_cost_cdk.customer_stack import TEMPLATE_PATH, customer_template, render_template

    with tempfile.TemporaryDirectory() as outdir:
        text = render_template(customer_template(outdir))
    target = args.out or TEMPLATE_PATH
    if args.check:
        current = target.read_text() if target.exists() else None
        if current != text:
            print(f"{target} is stale: run scripts/build_onboarding_template.py", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
