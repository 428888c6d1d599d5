"""The decision log: every evaluation answered, recorded in the service's database off the reply path."""
