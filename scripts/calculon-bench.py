"""Times Calculon, the analytical training planner (Isaev et al., SC'23), on this machine:
one execution strategy compiled and run in-process, as its `llm` command evaluates one,
repeated so that Python's start-up is not counted. The figure docs/performance.md puts
beside meshplan's training inner loop.

Usage: python3 scripts/calculon-bench.py CALCULON_CHECKOUT [RUNS]
(a checkout of github.com/calculon-ai/calculon; its `llm` package imports pandas and
psutil for the optimizer only, so empty stand-ins are put on the path when they are
missing.)"""
import json
import logging
import os
import sys
import tempfile
import time

root = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 300
stubs = tempfile.mkdtemp()
for name, body in (('pandas', ''), ('psutil', 'def cpu_count(logical=True):\n  return os.cpu_count()\nimport os\n')):
    try:
        __import__(name)
    except ImportError:
        with open(os.path.join(stubs, f'{name}.py'), 'w') as f:
            f.write(body)
sys.path[:0] = [root, stubs]
import calculon  # noqa: E402
from calculon.llm import Llm  # noqa: E402


def load(relative):
    with open(os.path.join(root, relative)) as f:
        return json.load(f)


# Korthikanti et al.'s 1T GPT on 3,072 A100s (TP 4, PP 64, DP 12, micro-batch 4, full recomputation): Calculon's own example
application = Llm.Application(load('models/megatron-1T.json'))
execution = Llm.Execution.from_json(load('examples/3072_t4_p64_d12_mbs4_full.json'))
system = calculon.System(load('systems/a100_80g.json'))


log = logging.getLogger('calculon-bench')
log.setLevel(logging.ERROR)


def evaluate():
    model = Llm(application, log)
    model.compile(system, execution)
    model.run(system)


for _ in range(20):
    evaluate()
started = time.perf_counter()
for _ in range(runs):
    evaluate()
seconds = (time.perf_counter() - started) / runs
print(f'calculon: {seconds * 1e3:.2f} ms per evaluated execution strategy ({1 / seconds:,.0f} per second on one core), the mean of {runs}')
