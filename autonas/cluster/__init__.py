"""keras-tuner's chief/worker mode: several processes run different trials of one search.

`roles.py` reads which part a process plays from keras-tuner's KERASTUNER_* variables (`Cluster`)
and keeps a worker's heartbeat; `chief.py` is the chief that serves the oracle over keras-tuner's
gRPC protocol, re-issues trials whose worker went silent, and stops when the search is over;
`local.py` starts workers on this machine for a classifier's `parallel_trials` (each a
`trial_worker.py` process).
(Training one trial on several devices or workers together is `autonas.distribute`.)
"""
