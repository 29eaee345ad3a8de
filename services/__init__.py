"""The runnable processes and their wiring: api, worker, embedded broker, command line."""
