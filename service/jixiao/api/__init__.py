"""The gRPC adapter: converts messages, calls the core, maps errors to statuses."""
