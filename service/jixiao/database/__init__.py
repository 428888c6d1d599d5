"""The service's database: its tables, how to connect, and the migrations that make them.

One database holds the registry of pack versions, the decision log and the shadow runs:
an SQLite file by default, PostgreSQL for several servers (`postgresql://…`).
"""
