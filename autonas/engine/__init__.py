"""Running a search: the trial runner, the search and the retraining, budgets, pace and resume.

`search.py` runs a search, trials or one-shot, and returns a `SearchOutcome` (`run_search`);
`retrain.py` retrains the winner within what is left of the budget (`retrain_best`); `tuner.py`
is the keras-tuner Tuner that trains and scores one trial; `trial_epochs.py` decides each
trial's epochs (sized to the budget by a probe trial); `graph_rewrites.py` runs compiled steps
without Grappler on a CPU; `budget.py`, `pace.py`, `progress.py` and `resume.py` are the time
budget, the measured pace of training, the per-trial progress line and the check that a resumed
search has the configuration it started with; `project_files.py` checks a search directory's
files before a search writes to it or resumes from it, and `search_lock.py` keeps a second `fit`
out of a directory in use.
"""
