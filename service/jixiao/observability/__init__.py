"""What operators see of a running server: Prometheus metrics, request ids, traces."""
