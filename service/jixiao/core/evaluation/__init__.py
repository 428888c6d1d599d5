"""Evaluating facts with a pack: the fact check, derived values and constraints, the compiled
rules and their matchers, scoring, not-applicable treatments, overrides and the rationales."""
