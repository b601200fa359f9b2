"""`tf.distribute`: training one trial, and the final model, on several devices or workers at once.

`strategies.py` turns the classifiers' `distribution_strategy=` into a strategy;
`multi_worker_strategy.py` is the training loop used under a MultiWorkerMirroredStrategy that spans
processes (where Keras's `fit` cannot run), with the chief's clock deciding for every worker.
(Running different trials in different processes is keras-tuner's chief/worker mode, `autonas.cluster`.)
"""
