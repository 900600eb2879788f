"""Bundled baselines from the seed papers, one folder per baseline.

``baselines.registry`` lists them (benchmark, method, paper, how to train,
how to run the predict entrypoint); ``python -m baselines`` trains missing
checkpoints and runs predictions. Every predict entrypoint obeys the
container contract (DESIGN.md §3), so a baseline is scored exactly like a
submission.
"""
