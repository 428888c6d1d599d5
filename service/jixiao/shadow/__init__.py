"""Shadow evaluation: live traffic also evaluated with a candidate pack version, off the reply path.

`sampling` decides which decisions are sampled, `runs` keeps the runs and their samples in
the service's database, `report` aggregates a run's samples, and `runner` takes the samples
on a server (the decision sink, the candidate evaluations on the event loop, the poller that
follows the runs other processes start and stop).
"""
