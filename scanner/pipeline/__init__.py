"""The pipeline: a target's items through the engine on every core, then suppression, verification and the
report (run.py), with the settings and policy a run reads."""
