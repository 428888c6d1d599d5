"""Rule-engine adapters. Only this package imports durable-rules."""
