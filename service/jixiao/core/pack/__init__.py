"""The pack language: the model of an indicator system and its rules, loading and checking
pack files (with messages in words), golden cases, digests and diffs between versions."""
