"""Shared by the Python tests: counted checks and the exit status they end with."""
import sys

counts = {'passed': 0, 'failed': 0}


def check(ok, what):
    """Counts one check; prints `what` when it fails."""
    if ok:
        counts['passed'] += 1
    else:
        counts['failed'] += 1
        print('FAIL:', what)


def finish(label=''):
    """Prints "[label: ]N passed, M failed" and exits 1 when a check failed."""
    print(f'{label + ": " if label else ""}{counts["passed"]} passed, {counts["failed"]} failed')
    sys.exit(1 if counts['failed'] else 0)
