"""Helpers shared by the tests that use SigmaHQ's data in ../shared."""
import os
import re


def rule_index(sigma):
    """Rule id (lower case) → path of the rule file, for every rules* folder
    of a Sigma checkout."""
    idx = {}
    for top in sorted(os.listdir(sigma)):
        if not top.startswith('rules'):
            continue
        for d, _, names in os.walk(os.path.join(sigma, top)):
            for n in names:
                if not n.endswith('.yml'):
                    continue
                p = os.path.join(d, n)
                with open(p, encoding='utf-8', errors='replace') as f:
                    for line in f:
                        m = re.match(r'^id:\s*([0-9a-fA-F-]{36})\s*$', line)
                        if m:
                            idx[m.group(1).lower()] = p
                            break
    return idx
